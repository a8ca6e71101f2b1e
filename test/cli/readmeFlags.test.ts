// README's flag tables are the option tables rendered (scripts/readme-flags.mjs): this fails on drift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { markdownTable, renderReadmeTables } from '../../src/cli/options/markdown.js';
import { COMMAND_SPECS } from '../../src/cli/specs/index.js';
import { GENERATE_SPEC } from '../../src/cli/specs/generate.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

test("README's flag tables equal the option tables (run node scripts/readme-flags.mjs after changing a flag)", () => {
  const { text, missing } = renderReadmeTables(readme, COMMAND_SPECS);
  assert.deepEqual(missing, [], 'every command has its table in README.md');
  if (text !== readme) {
    const ours = readme.split('\n');
    const want = text.split('\n');
    const at = ours.findIndex((line, i) => line !== want[i]);
    assert.fail(`README.md line ${at + 1} differs from the option tables:\n  README: ${ours[at]}\n  tables: ${want[at]}`);
  }
});

test('a changed flag is drift: the check sees it', () => {
  const changed = { ...GENERATE_SPEC, options: { ...GENERATE_SPEC.options, 'max-tokens': { ...GENERATE_SPEC.options['max-tokens'], default: 32 } } };
  const specs = COMMAND_SPECS.map((s) => (s === GENERATE_SPEC ? changed : s));
  assert.notEqual(renderReadmeTables(readme, specs).text, readme);
  assert.match(markdownTable(changed), /\| `--max-tokens N` \| most tokens to generate \(stops earlier at EOS\) \(>= 1\) \| 32 \|/);
});
