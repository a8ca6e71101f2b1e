// The dummy-weight generator (`--load-format dummy`): the same bits as its numpy and torch
// implementations (tools/reference/dummy_weights.py; torch ran on the GPU machine in
// tools/reference/full_width.py), deterministic, lazy, with the full 24B config's shapes, and
// values that keep a forward pass finite.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { loadBuiltinConfig } from '../../src/model/builtinConfigs.js';
import type { ModelConfig } from '../../src/model/config.js';
import { DummyWeightSource, dummyFillSpec, dummyTensorKey, fillDummyBf16, fillDummyF32 } from '../../src/model/dummyWeights.js';
import { generate } from '../helpers/engineGenerate.js';
import { createRunner } from '../../src/model/modelRunner.js';
import { expectedShapes } from '../../src/model/weightNames.js';
import { fixture } from '../helpers/paths.js';
import { imageTokens, randomImage, tinyConfig } from '../helpers/randomWeights.js';

interface CheckVectors {
  seed: number;
  tensors: Record<string, { shape: number[]; key: number; scale: number; offset: number; slices: { start: number; bf16_bits: number[] }[] }>;
}
interface FullWidthReference {
  seed: number;
  generator_check: Record<string, { shape: number[]; key: number; scale: number; offset: number; start: number; bf16_bits: number[]; numpy_agrees: boolean }>;
  pixels: { name: string; scale: number; offset: number; first_bf16_bits: number[] };
}

const readJson = <T>(...parts: string[]): T => JSON.parse(readFileSync(fixture(...parts), 'utf8')) as T;
const bf16ToF32 = (bits: number): number => new Float32Array(Uint32Array.of(bits << 16).buffer)[0];
let full: ModelConfig;

before(async () => {
  full = await loadBuiltinConfig('mistral-small-3.1-24b');
});

test('bit-exact with numpy (start, middle and end of full-size tensors) and with torch on the GPU', () => {
  const numpy = readJson<CheckVectors>('full-width', 'generator_check.json');
  assert.ok(Object.keys(numpy.tensors).length >= 5);
  for (const [name, t] of Object.entries(numpy.tensors)) {
    const spec = dummyFillSpec(numpy.seed, name, t.shape);
    assert.equal(spec.key, t.key, name);
    assert.equal(spec.scale, t.scale, name);
    assert.equal(spec.offset, t.offset, name);
    for (const s of t.slices) {
      const got = new Uint16Array(s.bf16_bits.length);
      fillDummyBf16(spec, got, s.start);
      assert.deepEqual([...got], s.bf16_bits, `${name} at ${s.start}`);
    }
  }
  const gpu = readJson<FullWidthReference>('full-width', 'reference.json');
  for (const [name, t] of Object.entries(gpu.generator_check)) {
    assert.ok(t.numpy_agrees, `${name}: torch and numpy agreed on the GPU machine`);
    const got = new Uint16Array(8);
    fillDummyBf16(dummyFillSpec(gpu.seed, name, t.shape), got, t.start);
    assert.deepEqual([...got], t.bf16_bits, name);
  }
  const px = new Uint16Array(8);
  fillDummyBf16({ name: gpu.pixels.name, shape: [3, 1540, 1540], key: dummyTensorKey(gpu.seed, gpu.pixels.name), scale: gpu.pixels.scale, offset: gpu.pixels.offset }, px);
  assert.deepEqual([...px], gpu.pixels.first_bf16_bits, 'full-width pixels');
});

test('deterministic in (seed, name); another seed or name gives other values', async () => {
  const cfg = tinyConfig({ dtype: 'bf16' });
  const a = await new DummyWeightSource(cfg, { seed: 5 }).get('layers.1.attention.wq');
  const b = await new DummyWeightSource(cfg, { seed: 5 }).get('layers.1.attention.wq');
  const c = await new DummyWeightSource(cfg, { seed: 6 }).get('layers.1.attention.wq');
  const d = await new DummyWeightSource(cfg, { seed: 5 }).get('layers.0.attention.wq');
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.notDeepEqual(a.data, d.data);
  // the f32 source holds the values the bf16 source rounds
  const f = await new DummyWeightSource(cfg, { seed: 5, dtype: 'f32' }).get('layers.1.attention.wq');
  const f32 = new Float32Array(f.data.buffer, f.data.byteOffset, f.data.byteLength / 4);
  const bits = new Uint16Array(a.data.buffer, a.data.byteOffset, a.data.byteLength / 2);
  for (let i = 0; i < f32.length; i++) assert.ok(Math.abs(bf16ToF32(bits[i]) - f32[i]) <= Math.abs(f32[i]) * 2 ** -8, `element ${i}`);
  assert.throws(() => new DummyWeightSource(cfg, { seed: -1 }), /seed must be an integer in \[0, 2\^32\)/);
});

test('the full 24B config: every canonical tensor with its shape, generated only on get()', async () => {
  const src = new DummyWeightSource(full);
  const shapes = expectedShapes(src.config);
  assert.equal(src.config.dtype, 'bf16');
  assert.deepEqual([...src.names()], [...shapes.keys()]);
  assert.equal(src.names().length, 40 * 9 + 3 + 24 * 9 + 2 + 4);
  let elements = 0;
  for (const name of src.names()) {
    const spec = src.fillSpec(name);
    assert.deepEqual(spec.shape, shapes.get(name));
    elements += spec.shape.reduce((x, y) => x * y, 1);
  }
  assert.ok(Math.abs(elements / 1e9 - 24.0) < 0.05, `${elements} parameters`);
  assert.equal(src.has('layers.39.feed_forward.w2'), true);
  assert.equal(src.has('layers.40.feed_forward.w2'), false);
  await assert.rejects(src.get('layers.40.feed_forward.w2'), /no weight layers\.40\.feed_forward\.w2 in the dummy model/);
  const norm = await src.get('vision.layers.3.ffn_norm');
  assert.deepEqual(norm.shape, [1024]);
  assert.equal(norm.data.byteLength, 2048);
});

test('values are finite and spread as documented: uniform, std gain/sqrt(fanIn), norms in [0.8, 1.2)', async () => {
  const src = new DummyWeightSource(full, { dtype: 'f32' });
  const cases: [string, number, number][] = [
    // name, expected mean, expected std
    ['vision.layers.0.attention.wq', 0, 1 / Math.sqrt(1024)],
    ['projector.patch_merger', 0, 1 / Math.sqrt(4096)],
    ['vision.patch_conv', 0, 1 / Math.sqrt(3 * 14 * 14)],
    ['layers.7.attention_norm', 1, 0.2 / Math.sqrt(3)],
  ];
  for (const [name, mean, std] of cases) {
    const t = await src.get(name);
    const v = new Float32Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 4);
    let s = 0;
    let s2 = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      assert.ok(Number.isFinite(x));
      s += x;
      s2 += x * x;
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    const m = s / v.length;
    const sd = Math.sqrt(s2 / v.length - m * m);
    assert.ok(Math.abs(m - mean) < 4 * std / Math.sqrt(v.length) + 1e-7, `${name}: mean ${m}`);
    assert.ok(Math.abs(sd / std - 1) < 0.02, `${name}: std ${sd}, expected ${std}`);
    const half = std * Math.sqrt(3);
    assert.ok(lo >= mean - half - 1e-6 && hi < mean + half + 1e-6, `${name}: range [${lo}, ${hi}]`);
    assert.ok(hi - lo > 1.9 * half, `${name}: spread over the whole range`);
  }
  // the lm_head's larger gain, from a slice of its 671M elements
  const out = src.fillSpec('output');
  const slice = new Float32Array(1 << 16);
  fillDummyF32(out, slice, 600_000_000);
  const sd = Math.sqrt(slice.reduce((a, x) => a + x * x, 0) / slice.length);
  assert.ok(Math.abs(sd / (8 / Math.sqrt(5120)) - 1) < 0.02, `output std ${sd}`);
});

let backend: CpuBackend;
before(() => {
  backend = new CpuBackend({ threads: 2 });
});
after(async () => {
  await backend.close();
});

test('a tiny model on dummy bf16 weights runs on the CPU runner: finite logprobs, text and image', async () => {
  const cfg = tinyConfig({ dtype: 'bf16' });
  const weights = new DummyWeightSource(cfg, { seed: 3 });
  const runner = await createRunner({ weights, backend, maxModelLen: 128, maxNumSeqs: 1, maxNumBatchedTokens: 128 });
  try {
    const image = randomImage(24, 16);
    for (const [ids, imgs] of [[[1, 5, 200, 17, 42], []], [[1, ...imageTokens(3, 2), 77, 88], [image]]] as const) {
      const gen = await generate(runner, cfg, ids, imgs, { maxTokens: 6, temperature: 0, logprobs: 3, promptLogprobs: 1, ignoreEos: true });
      assert.equal(gen.tokenIds.length, 6);
      for (const lp of [...(gen.logprobs ?? []), ...(gen.promptLogprobs ?? []).filter((x) => x !== null)]) {
        assert.ok(Number.isFinite(lp.logprob) && lp.logprob <= 0, `logprob ${lp.logprob}`);
        for (const [id, l] of lp.top) assert.ok(id >= 0 && id < cfg.text.vocabSize && Number.isFinite(l));
      }
      // gain 8 on the lm_head: greedy picks are confident, not a flat distribution
      const best = Math.max(...(gen.logprobs ?? []).map((lp) => lp.top[0][1]));
      assert.ok(best > -Math.log(cfg.text.vocabSize) + 1, `best logprob ${best}`);
    }
  } finally {
    await runner.close();
  }
});
