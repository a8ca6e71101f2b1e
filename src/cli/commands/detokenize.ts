// `tramontane detokenize --tokenizer <tekken.json> [--ids 1,2,3 | stdin] [--keep-special]`
import type { Command } from '../command.js';
import { parseOrHelp } from '../args.js';
import { DETOKENIZE_SPEC } from '../specs/tokenize.js';
import { CliError } from '../errors.js';
import { loadTokenizer, readStdin } from './tokenizerSource.js';

/** Ids separated by commas and/or whitespace, or a JSON array / {"ids": [...]}. */
export function parseIds(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new CliError(`detokenize: ids are not valid JSON (${(err as Error).message})`);
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { ids?: unknown }).ids;
    if (!Array.isArray(list)) throw new CliError('detokenize: expected a JSON array of ids or {"ids": [...]}');
    return list.map((v, i) => checkId(v, i));
  }
  if (trimmed === '') return [];
  return trimmed.split(/[\s,]+/).map((field, i) => checkId(/^-?\d+$/.test(field) ? Number(field) : field, i));
}

function checkId(v: unknown, i: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new CliError(`detokenize: id ${i} (${JSON.stringify(v)}) is not an integer`);
  return v;
}

export const detokenizeCommand: Command = {
  name: 'detokenize',
  summary: 'print the text of token ids (--ids or stdin)',
  async run(args: string[]): Promise<number> {
    const parsed = parseOrHelp(DETOKENIZE_SPEC, args);
    if (!parsed) return 0;
    const { values } = parsed;
    const tokenizer = loadTokenizer(values.tokenizer, 'detokenize');
    const ids = parseIds(values.ids ?? (await readStdin()));
    let text: string;
    try {
      text = tokenizer.decode(ids, { specialTokenPolicy: values['keep-special'] ? 'keep' : 'ignore' });
    } catch (err) {
      throw new CliError(`detokenize: ${(err as Error).message}`);
    }
    process.stdout.write(text);
    return 0;
  },
};
