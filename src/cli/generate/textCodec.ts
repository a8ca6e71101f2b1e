// The text side `tramontane generate` needs: prompt text -> ids, ids -> streamed text.
import { IncrementalDetokenizer, Tekkenizer } from '../../tokenizer/index.js';
import { CliError } from '../errors.js';

export interface StreamDecoder {
  /** Text completed by this id ('' mid-character; special tokens add nothing). */
  push(id: number): string;
  flush(): string;
}

export interface TextCodec {
  readonly tokenizer: Tekkenizer;
  readonly bosId: number;
  readonly eosId: number;
  /** Plain text to ids, no BOS/EOS. */
  encode(text: string): number[];
  streamDecoder(): StreamDecoder;
}

export function openTextCodec(path: string): TextCodec {
  let tokenizer: Tekkenizer;
  try {
    tokenizer = Tekkenizer.fromFile(path);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  return {
    tokenizer,
    bosId: tokenizer.bosId,
    eosId: tokenizer.eosId,
    encode: (text) => tokenizer.encode(text, { bos: false, eos: false }),
    streamDecoder: () => new IncrementalDetokenizer(tokenizer),
  };
}
