// The CLI's log as a user sees it (child processes): the random-weights notice once on stderr,
// --log-level, --log-format json, and stdout left to results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fixture, repoRoot } from '../helpers/paths.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const generate = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, 'generate', '--prompt-tokens', '1,1100,1200', '--max-tokens', '2', '--temperature', '0', '--device', 'cpu', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const count = (s: string, re: RegExp) => s.split('\n').filter((l) => re.test(l)).length;

test('the embedded random-weight model: one clear notice on stderr, none on stdout', () => {
  const r = generate('--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(count(r.stderr, /^WARNING .*\[model\] no --model given: running the embedded tiny model .* random weights, the output is meaningless text/), 1, r.stderr);
  assert.match(r.stderr, /^INFO .*\[model\] KV cache: [\d,]+ tokens/m);
  assert.equal(JSON.parse(r.stdout).outputs[0].token_ids.length, 2, 'stdout is the JSON alone');
  const dummy = generate('--load-format', 'dummy', '--model', fixture('models', 'tiny-a', 'mistral'));
  assert.equal(dummy.code, 0, dummy.stderr);
  assert.equal(count(dummy.stderr, /--load-format dummy: random weights for .*tiny-a/), 1, dummy.stderr);
  const real = generate('--model', fixture('models', 'tiny-a', 'hf'), '--tokenizer', fixture('models', 'tiny-a', 'mistral', 'tekken.json'));
  assert.equal(real.code, 0, real.stderr);
  assert.doesNotMatch(real.stderr, /random weights/, 'a real checkpoint: no notice');
});

test('--log-level and --log-format json', () => {
  const quiet = generate('--log-level', 'error');
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /WARNING|INFO/);
  const json = generate('--log-format', 'json', '--json');
  assert.equal(json.code, 0, json.stderr);
  const logs = json.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; component?: string });
  assert.ok(logs.some((l) => l.level === 40 && l.component === 'model' && /embedded tiny model/.test(l.msg)), json.stderr);
  assert.ok(logs.some((l) => l.level === 30 && /KV cache/.test(l.msg)));
  assert.match(generate('--log-level', 'loud').stderr, /--log-level must be one of fatal, error, warn, info, debug, trace, silent \(got 'loud'\)/);
});
