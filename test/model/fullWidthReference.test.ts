// The full-width reference (test/fixtures/full-width/reference.json, written on the GPU machine by
// tools/reference/full_width.py) describes a checkpoint our loader reads and weights our dummy
// generator reproduces, so a CUDA test can compare against it from either source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadBuiltinConfig } from '../../src/model/builtinConfigs.js';
import { DummyWeightSource } from '../../src/model/dummyWeights.js';
import { canonicalFromHf, expectedShapes } from '../../src/model/weightNames.js';
import { fixture } from '../helpers/paths.js';

interface Reference {
  seed: number;
  model: { text: { layers: number } };
  checkpoint: { tensors: Record<string, [string, number[]]> };
  weight_fingerprint: Record<string, [number, number]>;
  prompts: { name: string; token_ids: number[]; bf16_vs_fp32: { max_abs_top8: number; positions: number }; recorded: { position: number; top_ids_fp32: number[]; top_logprobs_fp32: number[] }[] }[];
}

const ref = JSON.parse(readFileSync(fixture('full-width', 'reference.json'), 'utf8')) as Reference;

async function fullWidthConfig() {
  const full = await loadBuiltinConfig('mistral-small-3.1-24b');
  return { ...full, text: { ...full.text, numLayers: ref.model.text.layers } };
}

test('the saved checkpoint holds exactly the canonical tensors of the full-width config, in bf16', async () => {
  const shapes = expectedShapes(await fullWidthConfig());
  const seen = new Set<string>();
  for (const [name, [dtype, shape]] of Object.entries(ref.checkpoint.tensors)) {
    const canonical = canonicalFromHf(name, false);
    assert.ok(canonical, `${name} maps to a canonical name`);
    assert.equal(dtype, 'BF16', name);
    assert.deepEqual(shape, shapes.get(canonical), name);
    seen.add(canonical);
  }
  assert.deepEqual([...seen].sort(), [...shapes.keys()].sort());
});

test('our generator reproduces whole tensors of the GPU-generated checkpoint (sums over every element)', async () => {
  const src = new DummyWeightSource(await fullWidthConfig(), { seed: ref.seed });
  for (const name of ['vision.patch_conv', 'vision.layers.0.attention.wq', 'vision.layers.23.attention_norm', 'projector.patch_merger', 'layers.1.ffn_norm']) {
    const t = await src.get(name);
    const bits = new Uint16Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 2);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    let sum = 0;
    let abs = 0;
    for (const b of bits) {
      u[0] = b << 16;
      sum += f[0];
      abs += Math.abs(f[0]);
    }
    const [gpuSum, gpuAbs] = ref.weight_fingerprint[name];
    assert.ok(Math.abs(abs - gpuAbs) <= 1e-9 * gpuAbs, `${name}: |x| sum ${abs} vs ${gpuAbs}`);
    assert.ok(Math.abs(sum - gpuSum) <= 1e-9 * gpuAbs, `${name}: sum ${sum} vs ${gpuSum}`);
  }
});

test('the recorded prompts and logprobs are well formed (the text prompt and the 1540x1540 image prompt)', () => {
  const [text, image] = ref.prompts;
  assert.equal(text.name, 'text');
  assert.equal(text.token_ids.length, text.recorded.length);
  assert.equal(image.name, 'image-1540');
  assert.equal(image.token_ids.filter((id) => id === 10).length, 55 * 55);
  assert.equal(image.token_ids.filter((id) => id === 12).length, 54);
  assert.equal(image.token_ids.indexOf(13), 55 * 56 - 1);
  for (const p of ref.prompts) {
    assert.ok(p.bf16_vs_fp32.positions === p.token_ids.length && p.bf16_vs_fp32.max_abs_top8 > 0);
    for (const r of p.recorded) {
      assert.equal(r.top_ids_fp32.length, 8);
      assert.ok(r.top_logprobs_fp32.every((x, i) => x <= 0 && (i === 0 || x <= r.top_logprobs_fp32[i - 1])));
    }
  }
});
