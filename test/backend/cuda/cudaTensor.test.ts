// Host-side bf16 conversion used by CudaBackend.write/download/uploadWeight (no GPU needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16ToF32, f32ToBf16 } from '../../../src/backend/cuda/cudaTensor.js';
import { numel } from '../../../src/backend/tensorShape.js';

const bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0];

test('f32 -> bf16 rounds to nearest even and keeps NaN a NaN', () => {
  const one = 0x3f80;
  // 1 + 2^-8 is exactly half way between bf16 1 and 1 + 2^-7: ties to even (1).
  const half = new Float32Array(new Uint32Array([0x3f808000]).buffer)[0];
  const above = new Float32Array(new Uint32Array([0x3f808001]).buffer)[0];
  const oddHalf = new Float32Array(new Uint32Array([0x3f818000]).buffer)[0];
  const out = f32ToBf16(Float32Array.from([1, half, above, oddHalf, -2, Infinity, NaN, 0]));
  assert.deepEqual(Array.from(out.subarray(0, 6)), [one, one, one + 1, one + 2, 0xc000, 0x7f80]);
  assert.ok((out[6] & 0x7f80) === 0x7f80 && (out[6] & 0x7f) !== 0, 'NaN stays NaN');
  assert.equal(out[7], 0);
});

test('bf16 -> f32 is exact and round-trips random values within half an ulp (|x| * 2^-8 bounds it)', () => {
  const xs = Float32Array.from({ length: 1000 }, () => (Math.random() - 0.5) * 1e4);
  const back = bf16ToF32(f32ToBf16(xs));
  for (let i = 0; i < xs.length; i++) {
    assert.ok(Math.abs(back[i] - xs[i]) <= Math.abs(xs[i]) * 2 ** -8, `${xs[i]} -> ${back[i]}`);
    assert.equal(bits(back[i]) & 0xffff, 0);
  }
  assert.equal(numel([2, 3, 4]), 24);
  assert.throws(() => numel([2, -1]), /bad tensor dimension -1/);
});
