// The committed torch FP8 reference (test/fixtures/fp8/reference.json, tools/reference/
// fp8_reference.py on the H200) against the host's FP8 arithmetic, without a GPU, on layer 0's
// wo [5120, 4096] from the dummy generator:
//   - torch's codes are exactly the host rule's (E4M3 RNE, saturating) with torch's scales. The
//     committed file was written when the script computed scale = amax / 448.0 with a Python
//     scalar, which torch on CUDA runs as amax * f32(1 / 448): one ulp off amax / 448 in every
//     row of wo (in none of wqkv), which moves 2 of wo's 21M codes across a tie. The script now
//     divides tensor by tensor (IEEE amax / 448, our rule); this test accepts either scale rule,
//     exactly, and says which the file used.
//   - torch's recorded outputs are within the accumulation bound of the exact sums of OUR
//     rule's codes and scales (per-token quantized x through torch._scaled_mm, bf16 out; files
//     from the first script version hold m = 1 as bf16 x times the dequantized weight in f32,
//     which each run's `path` names); the bound also covers the
//     one-ulp scale and the two flipped codes. The CUDA test holds the device to the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadBuiltinConfig } from '../../src/model/builtinConfigs.js';
import { DummyWeightSource, dummyTensorKey, fillDummyBf16 } from '../../src/model/dummyWeights.js';
import { E4M3_MAX, E4M3_VALUES, f32ToE4m3, quantizeRowsFp8 } from '../../src/backend/fp8E4m3.js';
import { fixture } from '../helpers/paths.js';

interface Gemm { name: string; parts: string[]; n: number; k: number; codes: { sum: number; weighted: number }; scales_head: number[]; scales_tail: number[]; runs: { m: number; path: string; indices: number[]; values: number[] }[] }
const ref = JSON.parse(readFileSync(fixture('fp8', 'reference.json'), 'utf8')) as { seed: number; gemms: Gemm[] };

function bf16Values(spec: Parameters<typeof fillDummyBf16>[0], count: number): Float32Array {
  const bits = new Uint16Array(count);
  fillDummyBf16(spec, bits);
  const out = new Float32Array(count);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) u[i] = bits[i] << 16;
  return out;
}

/** Checksums of codes quantized with scale = scaleOf(absmax) per row. */
function checksums(w: Float32Array, n: number, k: number, scaleOf: (absmax: number) => number) {
  let sum = 0;
  let weighted = 0;
  const scales = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    let a = 0;
    for (let c = 0; c < k; c++) a = Math.max(a, Math.abs(w[r * k + c]));
    const s = a > 0 ? scaleOf(a) : 1;
    scales[r] = s;
    for (let c = 0; c < k; c++) {
      const code = f32ToE4m3(Math.fround(w[r * k + c] / s));
      sum += code;
      weighted += code * (((r * k + c) % 251) + 1);
    }
  }
  return { sum, weighted, scales };
}

test('torch FP8 reference: wo quantizes to the same codes and scales, outputs within the bound of exact sums', async (t) => {
  const full = await loadBuiltinConfig('mistral-small-3.1-24b');
  const cfg = { ...full, text: { ...full.text, numLayers: 2 } };
  const source = new DummyWeightSource(cfg, { seed: ref.seed });
  const g = ref.gemms.find((x) => x.name === 'wo');
  assert.ok(g, 'reference has wo');
  const spec = source.fillSpec(g.parts[0]);
  const w = bf16Values(spec, g.n * g.k);
  const q = quantizeRowsFp8(w, g.n, g.k);
  const rules = { 'amax / 448': (a: number) => Math.fround(a / E4M3_MAX), 'amax * f32(1 / 448)': (a: number) => Math.fround(a * Math.fround(1 / E4M3_MAX)) };
  const matched = Object.entries(rules).find(([, rule]) => {
    const c = checksums(w, g.n, g.k, rule);
    return c.sum === g.codes.sum && c.weighted === g.codes.weighted && Array.from(c.scales.subarray(0, 16)).join() === g.scales_head.join() && Array.from(c.scales.subarray(g.n - 16)).join() === g.scales_tail.join();
  });
  assert.ok(matched, `torch's wo codes (sum ${g.codes.sum}) match neither scale rule`);
  t.diagnostic(`torch's wo codes and scales are the host rule's with scale = ${matched[0]}`);
  for (const run of g.runs) {
    const name = 'fp8_reference.x';
    const x = bf16Values({ name, shape: [run.m, g.k], key: dummyTensorKey(ref.seed, name), scale: 1, offset: 0 }, run.m * g.k);
    // The run's path says whether torch quantized x (every run of the current script does).
    const xq = run.path.startsWith('_scaled_mm') ? quantizeRowsFp8(x, run.m, g.k) : null;
    // f32 sums (m = 1, cuBLAS f32 with TF32 off): k * 2^-24; FP8 tensor cores: 2^-12 (fewer
    // bits between promotions to f32), plus the bf16 output's half ulp.
    const rel = xq ? 2 ** -12 : g.k * 2 ** -24;
    run.indices.forEach((idx, j) => {
      const [i, r] = [Math.floor(idx / g.n), idx % g.n];
      let s = 0;
      let mag = 0;
      for (let c = 0; c < g.k; c++) {
        const p = (xq ? E4M3_VALUES[xq.codes[i * g.k + c]] : x[i * g.k + c]) * E4M3_VALUES[q.codes[r * g.k + c]];
        s += p;
        mag += Math.abs(p);
      }
      const f = q.scales[r] * (xq ? xq.scales[i] : 1);
      const exact = s * f;
      const tol = rel * mag * f + (xq ? 2 ** -9 : 2 ** -23) * Math.abs(exact) + 1e-30;
      assert.ok(Math.abs(run.values[j] - exact) <= tol, `m=${run.m} element ${idx}: torch ${run.values[j]} vs exact ${exact} (tol ${tol.toExponential(2)})`);
    });
  }
});
