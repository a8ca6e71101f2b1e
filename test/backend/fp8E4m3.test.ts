// The E4M3 codec against a decoder written from the OCP FP8 definition, over all 256 codes:
// every finite value encodes back to its code, every value between two neighbours rounds to
// the nearer (ties to the even code), beyond ±448 saturates, NaN stays NaN. The checkpoints the
// FP8 loading tests write are only as right as this encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E4M3_MAX, E4M3_VALUES, dequantizeRowsFp8, f32ToE4m3, quantizeRowsFp8 } from '../../src/backend/fp8E4m3.js';
import { decodeToF32 } from '../../src/backend/dtypeConvert.js';

/** OCP E4M3FN from its bit fields: bias 7, subnormals at exponent 0, S.1111.111 is NaN. */
function referenceDecode(code: number): number {
  const s = code >> 7;
  const e = (code >> 3) & 15;
  const m = code & 7;
  if (e === 15 && m === 7) return NaN;
  const magnitude = e === 0 ? (m / 8) * 2 ** -6 : (1 + m / 8) * 2 ** (e - 7);
  return s ? -magnitude : magnitude;
}

/** The nearest finite code by brute force over all 256 (ties: the even code), saturating. */
function referenceEncode(x: number): number {
  if (Number.isNaN(x)) return 0x7f;
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const a = Math.min(Math.abs(x), E4M3_MAX);
  let best = -1;
  for (let c = 0; c <= 0x7e; c++) {
    const d = Math.abs(referenceDecode(c) - a);
    const bd = best < 0 ? Infinity : Math.abs(referenceDecode(best) - a);
    if (d < bd || (d === bd && (c & 1) === 0)) best = c;
  }
  return sign | best;
}

test('E4M3_VALUES holds the OCP value of all 256 codes (±448 largest, 2^-9 smallest, two NaNs)', () => {
  let nans = 0;
  for (let c = 0; c < 256; c++) {
    const ref = referenceDecode(c);
    if (Number.isNaN(ref)) {
      nans++;
      assert.ok(Number.isNaN(E4M3_VALUES[c]), `code ${c}`);
    } else {
      assert.ok(Object.is(E4M3_VALUES[c], ref), `code ${c}: ${E4M3_VALUES[c]} vs ${ref}`);
    }
  }
  assert.equal(nans, 2);
  assert.equal(E4M3_VALUES[0x7e], 448);
  assert.equal(E4M3_VALUES[0xfe], -448);
  assert.equal(E4M3_VALUES[0x01], 2 ** -9);
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const decoded = new Float32Array(256);
  decodeToF32(bytes, 'f8_e4m3', decoded);
  assert.deepEqual(decoded, E4M3_VALUES);
});

test('f32ToE4m3 round-trips every finite code, rounds every midpoint to the even neighbour, and matches brute force on 200k random f32s', () => {
  for (let c = 0; c < 256; c++) {
    if (Number.isNaN(E4M3_VALUES[c])) continue;
    const back = f32ToE4m3(E4M3_VALUES[c]);
    assert.equal(E4M3_VALUES[back], E4M3_VALUES[c], `code ${c}`); // +0 and -0 keep their sign bit
    assert.equal(back, c, `code ${c}`);
  }
  for (let c = 0; c < 0x7e; c++) {
    const lo = E4M3_VALUES[c];
    const hi = E4M3_VALUES[c + 1];
    const mid = (lo + hi) / 2; // exact in f32 (a few significant bits)
    assert.equal(Math.fround(mid), mid);
    const even = (c & 1) === 0 ? c : c + 1;
    assert.equal(f32ToE4m3(mid), even, `midpoint of codes ${c} and ${c + 1} (${mid})`);
    assert.equal(f32ToE4m3(-mid), 0x80 | even);
    // Just either side of the midpoint: the nearer neighbour.
    const below = Math.fround(mid - mid * 2 ** -20);
    const above = Math.fround(mid + mid * 2 ** -20);
    if (below > lo) assert.equal(f32ToE4m3(below), c, `just below midpoint ${c}`);
    if (above < hi) assert.equal(f32ToE4m3(above), c + 1, `just above midpoint ${c}`);
  }
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 200_000; i++) {
    const magnitude = 2 ** (rand() * 22 - 12); // 2^-12 .. 2^10: subnormals, normals, beyond 448
    const x = Math.fround((rand() < 0.5 ? -1 : 1) * magnitude);
    assert.equal(f32ToE4m3(x), referenceEncode(x), `x = ${x}`);
  }
});

test('f32ToE4m3 saturates to ±448 beyond the range (infinities too) and keeps NaN', () => {
  for (const x of [448, 449, 464, 480, 1e6, Infinity]) {
    assert.equal(f32ToE4m3(x), 0x7e, `${x}`);
    assert.equal(f32ToE4m3(-x), 0xfe, `${-x}`);
  }
  assert.equal(f32ToE4m3(447), 0x7e); // rounds up to 448 (the codes near 448 are 416 and 448)
  assert.equal(f32ToE4m3(431), 0x7d); // nearer 416
  assert.ok(Number.isNaN(E4M3_VALUES[f32ToE4m3(NaN)]));
  assert.equal(f32ToE4m3(2 ** -11), 0); // below half the smallest subnormal: zero
  assert.equal(f32ToE4m3(3 * 2 ** -11), 1); // above it
});

test('quantizeRowsFp8: per-row absmax / 448 scales, the row maximum on ±448, zero rows get scale 1', () => {
  const rows = 3;
  const cols = 5;
  const v = new Float32Array([0.5, -2, 1, 0.25, 0.125, 0, 0, 0, 0, 0, 3e-3, -7e-3, 1e-4, 0, 6.5e-3]);
  const q = quantizeRowsFp8(v, rows, cols);
  assert.deepEqual(Array.from(q.scales), [Math.fround(2 / 448), 1, Math.fround(7e-3 / 448)]);
  assert.equal(E4M3_VALUES[q.codes[1]], -448);
  assert.equal(E4M3_VALUES[q.codes[11]], -448);
  for (let i = 5; i < 10; i++) assert.equal(q.codes[i], 0);
  const deq = new Float32Array(rows * cols);
  dequantizeRowsFp8(q.codes, q.scales, deq);
  // Relative error of a normal E4M3 value is at most 2^-4 (half of a 3-bit mantissa's ulp).
  v.forEach((x, i) => {
    if (Math.abs(x) >= 2 ** -6 * q.scales[Math.floor(i / cols)]) assert.ok(Math.abs(deq[i] - x) <= Math.abs(x) * 2 ** -4 + 1e-12, `element ${i}: ${deq[i]} vs ${x}`);
  });
  assert.throws(() => quantizeRowsFp8(new Float32Array([1, NaN]), 1, 2), /row 0 holds a non-finite value/);
});
