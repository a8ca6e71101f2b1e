// `tramontane generate --speculative-config` gives the plain run's tokens and logprobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fixture, repoRoot } from '../helpers/paths.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const model = fixture('models', 'tiny-a', 'mistral');

function run(extra: string[]): { token_ids: number[]; cumulative_logprob: number; text: string } {
  const r = spawnSync(process.execPath, [main, 'generate', '--model', model, '--prompt', 'one two one two one two', '--max-tokens', '18', '--temperature', '0', '--logprobs', '2', '--json', ...extra], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).outputs[0];
}

test('generate --speculative-config (ngram, draft_model) gives the same output as plain generate', () => {
  const plain = run([]);
  for (const cfg of [{ method: 'ngram', num_speculative_tokens: 3 }, { method: 'draft_model', model, num_speculative_tokens: 5 }]) {
    const spec = run(['--speculative-config', JSON.stringify(cfg)]);
    assert.deepEqual(spec.token_ids, plain.token_ids, cfg.method);
    assert.equal(spec.text, plain.text);
    assert.ok(Math.abs(spec.cumulative_logprob - plain.cumulative_logprob) < 1e-4);
  }
  const bad = spawnSync(process.execPath, [main, 'generate', '--model', model, '--prompt', 'x', '--speculative-config', '{"method":"draft_model","num_speculative_tokens":2}'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /needs "model"/);
});
