// `tramontane bench load` times a checkpoint's load beside its floor and writes the JSON; the
// log shows the progress lines and vLLM's closing line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, repoRoot } from '../helpers/paths.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

test('bench load reports load time, GB/s and the file-read and copy floor, as JSON too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tramontane-bench-load-'));
  try {
    const out = join(dir, 'load.json');
    const model = fixture('models', 'tiny-a', 'mistral');
    const r = spawnSync(process.execPath, [main, 'bench', 'load', '--model', model, '--device', 'cpu', '--readers', '3', '--chunk-mib', '1', '--num-iters', '2', '--output-json', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /floor: read the files once: [\d.]+ GB in [\d.]+ s = [\d.]+ GB\/s/);
    assert.match(r.stdout, /load: [\d.]+ GB in [\d.]+ s = [\d.]+ GB\/s \(floor/);
    assert.match(r.stderr, /Loading weights took [\d.]+ s \([\d.]+ GB, [\d.]+ GB\/s\)/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(json.layout, 'mistral');
    assert.equal(json.files, 1);
    assert.equal(json.readers, 3);
    assert.equal(json.chunk_bytes, 1 << 20);
    assert.equal(json.load_seconds.length, 2);
    assert.equal(json.weight_bytes, 487200); // tiny-a's bf16 tensors
    assert.ok(json.file_read.bytes > json.weight_bytes && json.host_to_device.gb_per_s > 0 && json.floor_seconds > 0);
    const missing = spawnSync(process.execPath, [main, 'bench', 'load'], { encoding: 'utf8' });
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /--model DIR is required/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
