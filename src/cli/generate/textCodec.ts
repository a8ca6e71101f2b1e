// The text side `tramontane generate` needs: prompt text -> ids, ids -> streamed text.
//
// ADAPTER (tell the lead): the tokenizer layer (src/tokenizer, Tekkenizer and
// IncrementalDetokenizer) lives on another branch. Until it is merged, `openTextCodec` decodes
// from tekken.json's vocabulary itself (decode is a byte lookup) and refuses to encode text.
// After the merge, replace the body of `openTextCodec` with:
//   const tok = Tekkenizer.fromFile(path);
//   return { bosId: tok.bosId, eosId: tok.eosId, encode: (t) => tok.encode(t, { bos: false, eos: false }),
//            streamDecoder: () => { const d = new IncrementalDetokenizer(tok); return { push: (id) => d.push(id), flush: () => d.flush() }; } };
import { readFileSync } from 'node:fs';
import { CliError } from '../errors.js';

export interface StreamDecoder {
  /** Text completed by this id ('' mid-character; special tokens add nothing). */
  push(id: number): string;
  flush(): string;
}

export interface TextCodec {
  readonly bosId: number;
  readonly eosId: number;
  /** Plain text to ids, no BOS/EOS. */
  encode(text: string): number[];
  streamDecoder(): StreamDecoder;
}

interface TekkenJson {
  config?: { default_num_special_tokens?: number; default_vocab_size?: number };
  vocab?: { rank: number; token_bytes: string }[];
  special_tokens?: { rank: number; token_str: string }[];
}

export function openTextCodec(path: string): TextCodec {
  let data: TekkenJson;
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as TekkenJson;
  } catch (e) {
    throw new CliError(`cannot read tokenizer ${path}: ${(e as Error).message}`);
  }
  const numSpecial = data.config?.default_num_special_tokens ?? 1000;
  const vocabSize = data.config?.default_vocab_size ?? 131072;
  if (!Array.isArray(data.vocab)) throw new CliError(`tokenizer ${path}: no 'vocab' list`);
  const pieces = data.vocab.slice(0, vocabSize - numSpecial).map((v) => Buffer.from(v.token_bytes, 'base64'));
  const special = new Map((data.special_tokens ?? []).map((s) => [s.token_str, s.rank]));
  return {
    bosId: special.get('<s>') ?? 1,
    eosId: special.get('</s>') ?? 2,
    encode: () => {
      throw new CliError('text prompts need the tokenizer layer, which this build lacks; pass --prompt-tokens');
    },
    streamDecoder: () => {
      let decoder = new TextDecoder('utf-8');
      return {
        push: (id) => {
          const piece = id >= numSpecial ? pieces[id - numSpecial] : undefined;
          return piece ? decoder.decode(piece, { stream: true }) : '';
        },
        flush: () => {
          const rest = decoder.decode();
          decoder = new TextDecoder('utf-8');
          return rest;
        },
      };
    },
  };
}
