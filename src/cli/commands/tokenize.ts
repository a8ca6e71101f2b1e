// `tramontane tokenize --tokenizer <tekken.json> [--text T | stdin] [--bos] [--eos] [--json]`
import type { Command } from '../command.js';
import { parseFlags } from '../args.js';
import { loadTokenizer, readStdin } from './tokenizerSource.js';

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'print the token ids of a text (--text or stdin): --tokenizer <tekken.json> [--bos] [--eos] [--json]',
  async run(args: string[]): Promise<number> {
    const { values } = parseFlags('tokenize', args, {
      tokenizer: { type: 'string' },
      text: { type: 'string' },
      bos: { type: 'boolean', default: false },
      eos: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    const tokenizer = loadTokenizer(values.tokenizer, 'tokenize');
    const text = values.text ?? (await readStdin());
    const ids = tokenizer.encode(text, { bos: values.bos, eos: values.eos });
    process.stdout.write(values.json ? `${JSON.stringify({ ids })}\n` : `${ids.join(' ')}\n`);
    return 0;
  },
};
