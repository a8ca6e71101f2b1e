#!/usr/bin/env node
// Renders the README's flag tables from the option tables (src/cli/specs/, built into dist/):
// each between `<!-- flags:<command> -->` and `<!-- /flags:<command> -->`.
//   node scripts/readme-flags.mjs           rewrite README.md
//   node scripts/readme-flags.mjs --check   exit 1 when README.md differs from the tables
// Needs `npm run build` first.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const { COMMAND_SPECS } = await import(new URL('../dist/src/cli/specs/index.js', import.meta.url).href);
const { renderReadmeTables } = await import(new URL('../dist/src/cli/options/markdown.js', import.meta.url).href);
const path = `${root}README.md`;
const readme = readFileSync(path, 'utf8');
const { text, missing } = renderReadmeTables(readme, COMMAND_SPECS);
if (missing.length > 0) {
  console.error(`README.md has no markers for: ${missing.join(', ')}`);
  process.exit(1);
}
if (process.argv.includes('--check')) {
  if (text !== readme) {
    console.error('README.md flag tables differ from src/cli/specs: run node scripts/readme-flags.mjs');
    process.exit(1);
  }
} else if (text !== readme) {
  writeFileSync(path, text);
  console.error('README.md flag tables rewritten');
}
