// `tramontane tokenize --tokenizer <tekken.json> [--text T | stdin] [--bos] [--eos] [--json]`
import type { Command } from '../command.js';
import { parseOrHelp } from '../args.js';
import { TOKENIZE_SPEC } from '../specs/tokenize.js';
import { loadTokenizer, readStdin } from './tokenizerSource.js';

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'print the token ids of a text (--text or stdin)',
  async run(args: string[]): Promise<number> {
    const parsed = parseOrHelp(TOKENIZE_SPEC, args);
    if (!parsed) return 0;
    const { values } = parsed;
    const tokenizer = loadTokenizer(values.tokenizer, 'tokenize');
    const text = values.text ?? (await readStdin());
    const ids = tokenizer.encode(text, { bos: values.bos, eos: values.eos });
    process.stdout.write(values.json ? `${JSON.stringify({ ids })}\n` : `${ids.join(' ')}\n`);
    return 0;
  },
};
