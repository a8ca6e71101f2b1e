// Every script in examples/ runs as a user would run it (`node examples/<name>.mjs`, importing
// 'tramontane' through the package's own name and exports map) on the embedded tiny model, and
// prints what its comment promises. A new example without a case here fails the first test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

const examplesDir = join(repoRoot, 'examples');

/** Per script: lines its output must match, in order of appearance. */
const EXPECTED: Record<string, RegExp[]> = {
  'generate.mjs': [/^"The capital of France is" -> ".*" \(16 tokens, finish: length\)$/m, /^"Mistral is a wind that" -> /m],
  'streaming.mjs': [/^\[24 tokens, finish: length\]$/m],
  'image-prompt.mjs': [/^prompt: \d+ tokens, 1 image$/m, /^".*"$/m],
  'chat-tools.mjs': [/^tool call: get_weather\(\{\s*"city":\s*"(Paris|Oslo)"\s*\}\)$/m, /^answer: /m],
  'structured-output.mjs': [/^json: \{ city: .*, population: \d+ \}$/m, /^choice: (yes|no)$/m],
  'openai-client.mjs': [/^model: \S+$/m, /^chat: ".*" \(16 tokens, fp_[0-9a-f]{10}\)$/m, /^stream: /m],
};

function scripts(): string[] {
  return readdirSync(examplesDir).filter((f) => f.endsWith('.mjs')).sort();
}

test('every example has a case here and imports tramontane by its package name', () => {
  assert.deepEqual(scripts(), Object.keys(EXPECTED).sort());
  for (const name of scripts()) {
    const text = readFileSync(join(examplesDir, name), 'utf8');
    assert.match(text, /from 'tramontane'/, name);
    assert.doesNotMatch(text, /from '\.\.?\//, `${name} imports by relative path`);
  }
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  test(`examples/${name} runs on the embedded tiny model`, () => {
    const env = { ...process.env };
    for (const k of ['TRAMONTANE_MODEL', 'TRAMONTANE_DEVICE', 'TRAMONTANE_URL']) delete env[k];
    const r = spawnSync(process.execPath, [join(examplesDir, name)], { cwd: repoRoot, encoding: 'utf8', env: { ...env, TRAMONTANE_DEVICE: 'cpu' }, timeout: 120_000 });
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, out);
    for (const re of expected) assert.match(r.stdout, re, out);
  });
}
