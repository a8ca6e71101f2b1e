// `tramontane bench latency` runs end to end and writes vLLM's latency-benchmark fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';

test('bench latency writes avg_latency, latencies and percentiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tramontane-bench-'));
  try {
    const out = join(dir, 'latency.json');
    const r = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'latency', '--input-len', '5',
      '--output-len', '3', '--batch-size', '2', '--num-iters-warmup', '1', '--num-iters', '3', '--skip-matmul', '--output-json', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Avg latency: [\d.]+ seconds/);
    // Progress on stderr (plain lines: not a TTY), never on stdout.
    assert.match(r.stderr, /^tramontane: bench latency: warm-up: 1\/1 /m);
    assert.match(r.stderr, /^tramontane: bench latency: measuring: 3\/3 [\d.]+s {2}last [\d.]+ s$/m);
    assert.doesNotMatch(r.stdout, /bench latency:|tramontane:/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(json.input_len, 5);
    assert.equal(json.output_len, 3);
    assert.equal(json.batch_size, 2);
    assert.equal(json.num_iters, 3);
    assert.equal(json.latencies.length, 3);
    assert.ok(json.avg_latency > 0);
    assert.deepEqual(Object.keys(json.percentiles), ['10', '25', '50', '75', '90', '99']);
    assert.ok(json.percentiles['10'] <= json.percentiles['99']);
    const bad = spawnSync(process.execPath, [join(repoRoot, 'dist', 'src', 'cli', 'main.js'), 'bench', 'latency', '--batch-size', '0'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--batch-size must be >= 1 \(got 0\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
