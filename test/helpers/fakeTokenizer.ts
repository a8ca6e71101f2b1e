// A tiny tokenizer for engine tests: id 0 <unk>, 1 <s>, 2 </s>, 3.. one printable ASCII
// character each ('a' + (id - 3) mod 26, with id 29 = ' ' and id 30 = 'é' sent as two tokens
// 30, 31 whose bytes form one character).
import type { EngineTokenizer, StreamingDetokenizer } from '../../src/engine/tokenizerPort.js';

function bytesOf(id: number): number[] {
  if (id === 29) return [0x20];
  if (id === 30) return [0xc3];
  if (id === 31) return [0xa9];
  return [0x61 + ((id - 3) % 26)];
}

export class FakeTokenizer implements EngineTokenizer {
  readonly bosId = 1;
  readonly eosId = 2;
  readonly vocabSize = 64;

  encode(text: string, options: { bos: boolean; eos: boolean }): number[] {
    const ids: number[] = options.bos ? [1] : [];
    for (const ch of text) {
      if (ch === ' ') ids.push(29);
      else if (ch === 'é') ids.push(30, 31);
      else ids.push(3 + ((ch.charCodeAt(0) - 0x61 + 26 * 10) % 26));
    }
    if (options.eos) ids.push(2);
    return ids;
  }

  decode(ids: readonly number[], options: { skipSpecialTokens: boolean }): string {
    const bytes: number[] = [];
    for (const id of ids) {
      if (id < 3) {
        if (!options.skipSpecialTokens) bytes.push(...Buffer.from(['<unk>', '<s>', '</s>'][id]));
      } else bytes.push(...bytesOf(id));
    }
    return Buffer.from(bytes).toString('utf8');
  }

  tokenText(id: number): string {
    return id < 3 ? ['<unk>', '<s>', '</s>'][id] : Buffer.from(bytesOf(id)).toString('latin1');
  }

  newDetokenizer(options: { skipSpecialTokens: boolean }): StreamingDetokenizer {
    const ids: number[] = [];
    let emitted = '';
    return {
      push: (id: number) => {
        ids.push(id);
        const text = this.decode(ids, options);
        const complete = text.endsWith('\uFFFD') ? text.slice(0, -1) : text;
        if (complete.length <= emitted.length) return '';
        const delta = complete.slice(emitted.length);
        emitted = complete;
        return delta;
      },
      flush: () => {
        const text = this.decode(ids, options);
        const delta = text.slice(emitted.length);
        emitted = text;
        return delta;
      },
    };
  }
}
