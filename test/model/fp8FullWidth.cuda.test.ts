// FP8 on the CUDA backend against torch (issue 16): test/fixtures/fp8/reference.json, written by
// tools/reference/fp8_reference.py on the GPU machine from the full-width model (the real text
// dimensions, 2 decoder layers, dummy weights of seed 0: `--load-format dummy` of that config is
// the same model) quantized as tramontane quantizes it.
//
// 1. Layer 0's four linears (wqkv, wo, w13, w2), weights generated and quantized on the device:
//    for wqkv and wo (the two small enough to quantize on the host here) the codes and scales
//    equal the host rule's (quantizeRowsFp8) byte for byte. (torch's own codes in the file are
//    the same rule with its scale computed as amax * f32(1/448): test/model/fp8Reference.test.ts.)
//    Outputs at 256 sampled elements, m = 1 (the skinny tensor-core kernel) and m = 64
//    (cuBLASLt FP8) vs torch._scaled_mm, both with activations quantized per token: each side
//    is the exact sum of the same exact products up to its accumulation error, so
//      |ours - torch| <= 2 * rel * mag + 2^-8 |torch| (bf16 out: an ulp of each side's rounding)
//    with mag = sum of |products| x scales computed here on the host, rel = 2^-12 for the FP8
//    tensor cores (fewer than f32's bits between promotions).
// 2. A 32-token prompt through the FP8 model: our logprobs at torch's FP8 top-8 ids. The GEMMs
//    agree (part 1); the two runs still round the other intermediates (norms, attention, RoPE)
//    to bf16 in different kernels, and FP8 amplifies such differences: a bf16 ulp on the element
//    that sets a row's absmax moves the row's scale, and with it about 1/16 of the row's E4M3
//    codes by a whole step (2^-3..2^-4 relative). How far that carries is measured, not derived:
//    torch's own FP8 model with eager instead of SDPA attention (fp8_self_spread in the fixture,
//    two correct implementations) differs from itself by the recorded spread, and ours must be
//    within 2x of it (max and mean), as the bf16 full-width test allows 2x transformers'
//    bf16-vs-fp32 spread. Drift of FP8 against bf16 (torch, all positions) is reported beside.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { CudaFp8Linear } from '../../src/backend/cuda/fp8Linear.js';
import { loadBuiltinConfig } from '../../src/model/builtinConfigs.js';
import { DummyWeightSource, dummyTensorKey, fillDummyBf16 } from '../../src/model/dummyWeights.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { E4M3_VALUES, quantizeRowsFp8 } from '../../src/backend/fp8E4m3.js';
import { generate } from '../helpers/engineGenerate.js';
import type { ModelRunner } from '../../src/model/runner.js';
import type { ModelConfig } from '../../src/model/config.js';
import { fixture } from '../helpers/paths.js';

interface GemmRun { m: number; indices: number[]; values: number[] }
interface Gemm { name: string; parts: string[]; n: number; k: number; codes: { sum: number; weighted: number }; scales_sum: number; scales_head: number[]; scales_tail: number[]; runs: GemmRun[] }
interface Recorded { position: number; top_ids: number[]; top_logprobs: number[] }
const ref = JSON.parse(readFileSync(fixture('fp8', 'reference.json'), 'utf8')) as {
  seed: number;
  gemms: Gemm[];
  prompts: { name: string; token_ids: number[]; fp8_vs_bf16: Record<string, number>; fp8_self_spread: { max_abs_top8: number; mean_abs_top8: number }; recorded: Recorded[] }[];
};
const spread = ref.prompts[0].fp8_self_spread;

let backend: CudaBackend;
let cfg: ModelConfig;
before(async () => {
  const full = await loadBuiltinConfig('mistral-small-3.1-24b');
  cfg = { ...full, text: { ...full.text, numLayers: 2 } };
  // Part 1 compares the tensor-core kernels with torch's per-token-quantized arithmetic at m = 1
  // too: no bf16-x GEMV for the unquantized inputs it feeds (the default for a decode token's
  // o_proj and down, which fp8Linear.cuda.test.ts checks against exact sums).
  backend = new CudaBackend({ fp8Bf16GemvMaxRows: 0 });
});
after(async () => {
  await backend?.close();
});

const X_NAME = 'fp8_reference.x';

test('layer 0 linears: device quantization equals torch, outputs within the accumulation bound', async (t) => {
  const b = backend;
  const source = new DummyWeightSource(cfg, { seed: ref.seed });
  for (const g of ref.gemms) {
    const specs = g.parts.map((p) => source.fillSpec(p));
    const dense = b.createDummyWeight(specs, [g.n, g.k]);
    const w = b.quantizeLinear(dense);
    b.free(dense);
    assert.ok(w instanceof CudaFp8Linear);
    const codes = new Uint8Array(((await b.download(w.codes)) as Int32Array).buffer, 0, g.n * g.k);
    const scales = new Float32Array(((await b.download(w.scales)) as Int32Array).buffer, 0, g.n);
    if (g.n * g.k <= 40e6) {
      const bits = new Uint16Array(g.n * g.k);
      let off = 0;
      for (const spec of specs) {
        const part = new Uint16Array(spec.shape[0] * spec.shape[1]);
        fillDummyBf16(spec, part);
        bits.set(part, off);
        off += part.length;
      }
      const wv = new Float32Array(g.n * g.k);
      const wu = new Uint32Array(wv.buffer);
      for (let i = 0; i < bits.length; i++) wu[i] = bits[i] << 16;
      const host = quantizeRowsFp8(wv, g.n, g.k);
      let diff = 0;
      for (let i = 0; i < codes.length; i++) if (codes[i] !== host.codes[i]) diff++;
      assert.equal(diff, 0, `${g.name}: ${diff} device codes differ from the host rule's`);
      assert.deepEqual(Array.from(scales), Array.from(host.scales), `${g.name}: scales`);
    }
    for (const run of g.runs) {
      const m = run.m;
      const xSpec = { name: X_NAME, shape: [m, g.k], key: dummyTensorKey(ref.seed, X_NAME), scale: 1, offset: 0 };
      const x = b.createDummyWeight([xSpec]);
      const out = b.alloc([m, g.n], 'bf16');
      b.linear(out, x, w);
      const got = (await b.download(out)) as Float32Array;
      const bits = new Uint16Array(m * g.k);
      fillDummyBf16(xSpec, bits); // x as the device holds it (bf16)
      const xb = new Float32Array(m * g.k);
      const xu = new Uint32Array(xb.buffer);
      for (let i = 0; i < bits.length; i++) xu[i] = bits[i] << 16;
      assert.ok(b.fp8.quantizesActivations(m), 'the reference quantizes activations at every m (an sm_89+ GPU)');
      const xq = quantizeRowsFp8(xb, m, g.k);
      const rel = 2 ** -12;
      let worst = 0;
      run.indices.forEach((idx, j) => {
        const [i, r] = [Math.floor(idx / g.n), idx % g.n];
        let mag = 0;
        for (let c = 0; c < g.k; c++) {
          const xvv = E4M3_VALUES[xq.codes[i * g.k + c]];
          mag += Math.abs(xvv * E4M3_VALUES[codes[r * g.k + c]]);
        }
        mag *= scales[r] * xq.scales[i];
        const tol = 2 * rel * mag + 2 ** -8 * Math.abs(run.values[j]) + 1e-30;
        const err = Math.abs(got[idx] - run.values[j]);
        worst = Math.max(worst, err / tol);
        assert.ok(err <= tol, `${g.name} m=${m} element ${idx}: ours ${got[idx]} torch ${run.values[j]} (|err| ${err.toExponential(2)} > ${tol.toExponential(2)})`);
      });
      t.diagnostic(`${g.name} [${g.n}, ${g.k}] m=${m}: worst |err| / bound ${worst.toFixed(3)}`);
      b.free(x);
      b.free(out);
    }
    b.freeLinear(w);
  }
});

test('the FP8 full-width model against torch FP8 logprobs (text prompt)', async (t) => {
  const prompt = ref.prompts[0];
  let runner: ModelRunner | null = null;
  try {
    runner = await createRunner({
      weights: new DummyWeightSource(cfg, { seed: ref.seed }),
      backend,
      maxModelLen: 4096,
      maxNumSeqs: 1,
      maxNumBatchedTokens: 4096,
      load: { quantize: 'fp8' },
    });
    const res = await generate(runner, cfg, prompt.token_ids, [], { maxTokens: 1, temperature: 0, logprobs: 20, promptLogprobs: 20, ignoreEos: true });
    const last = prompt.token_ids.length - 1;
    let max = 0;
    let sum = 0;
    let count = 0;
    let top1 = 0;
    for (const r of prompt.recorded) {
      const entry = r.position === last ? res.logprobs?.[0] : res.promptLogprobs?.[r.position + 1];
      assert.ok(entry, `position ${r.position} scored`);
      const ours = new Map(entry.top.map(([id, lp]) => [id, lp]));
      if (entry.top[0][0] === r.top_ids[0]) top1++;
      r.top_ids.forEach((id, j) => {
        const lp = ours.get(id);
        assert.ok(lp !== undefined, `position ${r.position}: torch fp8 top-${j + 1} id ${id} is not in our top 20`);
        const d = Math.abs(lp - r.top_logprobs[j]);
        max = Math.max(max, d);
        sum += d;
        count++;
      });
    }
    t.diagnostic(
      `ours vs torch FP8: max ${max.toFixed(3)} mean ${(sum / count).toFixed(4)} over ${count} logprobs, top-1 agree ${top1}/${prompt.recorded.length}; ` +
        `torch FP8 vs bf16 drift: ${JSON.stringify(prompt.fp8_vs_bf16)}; torch FP8 eager vs sdpa: ${JSON.stringify(spread)}`,
    );
    assert.ok(spread, 'the fixture records fp8_self_spread (tools/reference/fp8_reference.py)');
    assert.ok(max <= 2 * spread.max_abs_top8, `max |ours - torch fp8| ${max} over 2 x ${spread.max_abs_top8}`);
    assert.ok(sum / count <= 2 * spread.mean_abs_top8, `mean |ours - torch fp8| ${sum / count} over 2 x ${spread.mean_abs_top8}`);
  } finally {
    await runner?.close();
  }
});
