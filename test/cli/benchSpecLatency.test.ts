// `tramontane bench latency --speculative-config`: the replay draft measures the verify
// mechanism at a chosen acceptance; plain first, then each config on the same model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, repoRoot } from '../helpers/paths.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

test('bench latency --speculative-config: replay at 100% accepts every draft in fewer steps; 0% accepts none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tramontane-spec-bench-'));
  try {
    const out = join(dir, 'spec.json');
    const configs = [
      { method: 'replay', num_speculative_tokens: 4, replay_accept_rate: 1 },
      { method: 'replay', num_speculative_tokens: 2, replay_accept_rate: 0 },
      { method: 'ngram', num_speculative_tokens: 3 },
      { method: 'replay', num_speculative_tokens: 4, replay_accept_rate: 0, replay_adaptive: true },
    ];
    const r = spawnSync(process.execPath, [main, 'bench', 'latency', '--model', fixture('models', 'tiny-a', 'mistral'), '--input-len', '12', '--output-len', '21',
      '--batch-size', '2', '--num-iters-warmup', '0', '--num-iters', '1', '--speculative-config', JSON.stringify(configs), '--output-json', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // Each run's progress on stderr (plain lines: not a TTY), none on stdout.
    assert.equal(r.stderr.split('\n').filter((l) => /^tramontane: bench latency: (plain|speculative): 1\/1 /.test(l)).length, 5, r.stderr);
    assert.doesNotMatch(r.stdout, /bench latency: (plain|speculative)/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(json.runs.length, 5);
    const [plain, all, none] = json.runs;
    const backedOff = json.runs[4];
    assert.equal(backedOff.acceptance, 0);
    assert.ok(backedOff.steps_per_iteration >= plain.steps_per_iteration, 'no draft accepted: as many steps as plain');
    assert.equal(plain.config, null);
    assert.equal(all.acceptance, 1);
    assert.equal(all.mean_accepted_per_draft > 3, true);
    assert.ok(all.steps_per_iteration <= plain.steps_per_iteration / 3, `${all.steps_per_iteration} vs ${plain.steps_per_iteration} steps`);
    assert.equal(none.acceptance, 0);
    assert.ok(none.verify_step_seconds_median > 0);
    assert.doesNotMatch(r.stdout, /differ from the plain run/, 'greedy outputs equal on the CPU');
    const bad = spawnSync(process.execPath, [main, 'bench', 'latency', '--speculative-config', '{"method":"ngram","num_speculative_tokens":99}'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /num_speculative_tokens must be an integer in \[1, 16\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
