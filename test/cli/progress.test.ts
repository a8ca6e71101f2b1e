import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bar, kvCacheLine, loadedLine, weightLoadProgress } from '../../src/cli/progress.js';
import type { LoadProgress } from '../../src/model/loadProgress.js';

const GB = 1e9;
const at = (phase: LoadProgress['phase'], s: number, gb: number, tensors: number): LoadProgress => ({
  phase, bytesDone: gb * GB, bytesTotal: 48 * GB, tensorsDone: tensors, tensorsTotal: 585, elapsedSeconds: s,
});

function capture(tty: boolean) {
  const out: string[] = [];
  const listener = weightLoadProgress({ out: { write: (t: string) => out.push(t), columns: 120 }, tty, logEverySeconds: 1, redrawPerSecond: 10 });
  return { out, listener };
}

test('plain output: a line at the start, one per interval with %, GB, GB/s, ETA and tensors, then vLLM\'s closing line', () => {
  const { out, listener } = capture(false);
  listener(at('start', 0, 0, 0));
  listener(at('progress', 0.5, 6, 70)); // inside the interval: nothing
  listener(at('progress', 1.0, 12, 140));
  listener(at('progress', 2.0, 24, 290));
  listener(at('done', 4.0, 48, 585));
  assert.deepEqual(out, [
    'tramontane: loading weights: 48.0 GB in 585 tensors\n',
    'tramontane: loading weights 25%: 12.0/48.0 GB  12.00 GB/s  ETA 3.0s  140/585 tensors\n',
    'tramontane: loading weights 50%: 24.0/48.0 GB  12.00 GB/s  ETA 2.0s  290/585 tensors\n',
    'tramontane: Loading weights took 4.00 s (48.0 GB, 12.00 GB/s)\n',
  ]);
});

test('TTY output redraws one line with a bar, clears it at the end', () => {
  const { out, listener } = capture(true);
  listener(at('start', 0, 0, 0));
  listener(at('progress', 0.2, 12, 140));
  listener(at('progress', 0.25, 13, 150)); // faster than 10 redraws a second: skipped
  listener(at('done', 4, 48, 585));
  assert.equal(out.length, 3);
  assert.ok(out[0].startsWith('\r\u001b[2K'), JSON.stringify(out[0]));
  assert.match(out[0].slice(5), /^Loading weights \[#+>\.+\] 12\.0\/48\.0 GB {2}60\.00 GB\/s {2}ETA 0\.6s {2}140\/585 tensors$/);
  assert.equal(out[1], '\r\x1b[2K');
  assert.equal(out[2], 'tramontane: Loading weights took 4.00 s (48.0 GB, 12.00 GB/s)\n');
});

test('bar, closing line and KV-cache line', () => {
  assert.equal(bar(0, 5), '[>....]');
  assert.equal(bar(0.5, 4), '[##>.]');
  assert.equal(bar(1, 4), '[####]');
  assert.equal(loadedLine(at('done', 2, 0.5, 1)), 'Loading weights took 2.00 s (0.50 GB, 0.25 GB/s)');
  assert.equal(kvCacheLine(183456, 28 * 2 ** 30), 'KV cache: 183,456 tokens (28.00 GiB)');
});
