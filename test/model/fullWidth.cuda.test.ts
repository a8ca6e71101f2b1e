// Full width on the CUDA backend: the model of test/fixtures/full-width (the real text
// dimensions with 2 decoder layers, the full 24-layer Pixtral encoder and projector; weights
// from our dummy generator, seed 0, so `--load-format dummy` of that config IS the checkpoint
// transformers ran), a text prompt and a 1540x1540 image prompt, against transformers' fp32 and
// bf16 logprobs recorded by tools/reference/full_width.py on the H100.
//
// Bound, per prompt, from transformers' own bf16-vs-fp32 spread recorded in the same file
// (`bf16_vs_fp32`, over every position): over the recorded positions' fp32 top-8, our max
// |logprob - fp32| <= 2 x transformers' max (0.286 text, 0.664 image) and our mean <= 2 x its
// mean (0.071, 0.109). The factor 2 covers a second, independent bf16 computation (different
// kernels and summation orders): two runs with errors of the same size differ by up to the
// sum of both. Top-1 ids must equal fp32's where its top-1/top-2 gap exceeds 2 x
// transformers' max top-1 error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { loadBuiltinConfig } from '../../src/model/builtinConfigs.js';
import { DummyWeightSource, dummyTensorKey, fillDummyBf16 } from '../../src/model/dummyWeights.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { generate } from '../helpers/engineGenerate.js';
import type { ModelRunner } from '../../src/model/runner.js';
import type { ModelConfig } from '../../src/model/config.js';
import { fixture } from '../helpers/paths.js';

interface Recorded {
  position: number;
  top_ids_fp32: number[];
  top_logprobs_fp32: number[];
  logprobs_bf16_at_top_ids_fp32: number[];
}
interface Prompt {
  name: string;
  token_ids: number[];
  image: [number, number] | null;
  bf16_vs_fp32: { max_abs_top8: number; mean_abs_top8: number; max_abs_top1: number };
  recorded: Recorded[];
}
const ref = JSON.parse(readFileSync(fixture('full-width', 'reference.json'), 'utf8')) as {
  seed: number;
  model: { text: { layers: number } };
  pixels: { name: string; scale: number; offset: number };
  prompts: Prompt[];
};

let backend: CudaBackend;
let runner: ModelRunner;
let cfg: ModelConfig;
before(async () => {
  const full = await loadBuiltinConfig('mistral-small-3.1-24b');
  cfg = { ...full, text: { ...full.text, numLayers: ref.model.text.layers } };
  backend = new CudaBackend();
  runner = await createRunner({ weights: new DummyWeightSource(cfg, { seed: ref.seed }), backend, maxModelLen: 4096, maxNumSeqs: 1, maxNumBatchedTokens: 4096 });
});
after(async () => {
  await runner?.close();
  await backend?.close();
});

function pixels(side: number): Float32Array {
  const n = 3 * side * side;
  const bits = new Uint16Array(n);
  const p = ref.pixels;
  fillDummyBf16({ name: p.name, shape: [n], key: dummyTensorKey(ref.seed, p.name), scale: Math.fround(p.scale), offset: Math.fround(p.offset) }, bits);
  const out = new Float32Array(n);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) u[i] = bits[i] << 16;
  return out;
}

for (const prompt of ref.prompts) {
  test(`full width on cuda: ${prompt.name} (${prompt.token_ids.length} tokens) against transformers fp32 and bf16`, async (t) => {
    const images = prompt.image ? [{ height: prompt.image[0], width: prompt.image[1], pixels: pixels(prompt.image[0]) }] : [];
    const res = await generate(runner, cfg, prompt.token_ids, images, { maxTokens: 1, temperature: 0, logprobs: 20, promptLogprobs: 20, ignoreEos: true });
    const last = prompt.token_ids.length - 1;
    const spread = prompt.bf16_vs_fp32;
    let max32 = 0;
    let sum32 = 0;
    let max16 = 0;
    let sum16 = 0;
    let count = 0;
    let top1Checked = 0;
    for (const r of prompt.recorded) {
      const entry = r.position === last ? res.logprobs?.[0] : res.promptLogprobs?.[r.position + 1];
      assert.ok(entry, `position ${r.position} scored`);
      const ours = new Map(entry.top.map(([id, lp]) => [id, lp]));
      r.top_ids_fp32.forEach((id, j) => {
        const lp = ours.get(id);
        assert.ok(lp !== undefined, `position ${r.position}: fp32 top-${j + 1} id ${id} is not in our top 20`);
        const d32 = Math.abs(lp - r.top_logprobs_fp32[j]);
        const d16 = Math.abs(lp - r.logprobs_bf16_at_top_ids_fp32[j]);
        max32 = Math.max(max32, d32);
        max16 = Math.max(max16, d16);
        sum32 += d32;
        sum16 += d16;
        count++;
      });
      if (r.top_logprobs_fp32[0] - r.top_logprobs_fp32[1] > 2 * spread.max_abs_top1) {
        assert.equal(entry.top[0][0], r.top_ids_fp32[0], `top-1 id at position ${r.position}`);
        top1Checked++;
      }
    }
    t.diagnostic(
      `${prompt.recorded.length} positions, ${count} logprobs: vs fp32 max ${max32.toFixed(3)} mean ${(sum32 / count).toFixed(4)}; ` +
        `vs transformers bf16 max ${max16.toFixed(3)} mean ${(sum16 / count).toFixed(4)}; transformers bf16 vs fp32 (all positions): max ${spread.max_abs_top8.toFixed(3)} mean ${spread.mean_abs_top8.toFixed(4)}; top-1 checked at ${top1Checked}`,
    );
    assert.ok(max32 <= 2 * spread.max_abs_top8, `max |ours - fp32| ${max32} over 2 x ${spread.max_abs_top8}`);
    assert.ok(sum32 / count <= 2 * spread.mean_abs_top8, `mean |ours - fp32| ${sum32 / count} over 2 x ${spread.mean_abs_top8}`);
  });
}
