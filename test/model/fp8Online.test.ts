// Online FP8 (`quantization: 'fp8'`, vLLM's --quantization fp8) of a bf16 checkpoint: the text
// decoder's linears become per-row absmax/448 E4M3 weights (device-side quantizeLinear and the
// host path of uploadLinear agree), the vision tower, projector and lm_head stay bf16, and the
// logprobs equal those of a dense checkpoint holding the expected dequantized weights. The
// option reaches the loader from LLM.create and openRunner, with dummy weights too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';
import { createCpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { decodeToF32 } from '../../src/backend/dtypeConvert.js';
import { dequantizeRowsFp8, quantizeRowsFp8 } from '../../src/backend/fp8E4m3.js';
import { TensorLinear } from '../../src/backend/tensorLinear.js';
import { openRunner } from '../../src/engine/composition.js';
import { LLM } from '../../src/engine/llm.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { freeModelWeights, loadModelWeights, type ModelWeights } from '../../src/model/deviceWeights.js';
import type { LoadProgress } from '../../src/model/loadProgress.js';
import type { WeightSource } from '../../src/model/weights.js';
import { writeOnlineTwin } from '../helpers/fp8Checkpoint.js';
import { scorePrompts } from '../helpers/fp8Runs.js';
import { fixture } from '../helpers/paths.js';
import { tempDir } from '../helpers/safetensors.js';

async function valuesOf(source: WeightSource, names: readonly string[]): Promise<Float32Array> {
  const parts = await Promise.all(names.map((n) => source.get(n)));
  const out = new Float32Array(parts.reduce((a, p) => a + p.data.byteLength / 2, 0));
  let off = 0;
  for (const p of parts) {
    const v = new Float32Array(p.data.byteLength / 2);
    decodeToF32(p.data, p.dtype, v);
    out.set(v, off);
    off += v.length;
  }
  return out;
}

/** Checks every text linear of `w` is the per-row FP8 quantization of the checkpoint's bf16. */
async function checkQuantized(backend: Backend, w: ModelWeights, source: WeightSource): Promise<void> {
  for (const [l, layer] of w.text.layers.entries()) {
    const p = `layers.${l}.`;
    for (const [lin, names] of [
      [layer.wqkv, ['attention.wq', 'attention.wk', 'attention.wv']],
      [layer.wo, ['attention.wo']],
      [layer.w13, ['feed_forward.w1', 'feed_forward.w3']],
      [layer.w2, ['feed_forward.w2']],
    ] as const) {
      assert.equal(lin.format, 'fp8');
      const [rows, cols] = lin.shape;
      const q = quantizeRowsFp8(await valuesOf(source, names.map((n) => p + n)), rows, cols);
      const expected = new Float32Array(rows * cols);
      dequantizeRowsFp8(q.codes, q.scales, expected);
      const got = await backend.download((lin as TensorLinear).tensor);
      assert.deepEqual(got, expected, `${p}${names.join('|')}`);
    }
  }
  const v = w.vision!;
  for (const lin of [v.patchConv, v.layers[0].wqkv, v.layers[0].w13, w.projector!.linear1, w.projector!.linear2, w.projector!.patchMerger]) assert.equal(lin.format, 'dense');
  const out = await backend.download(w.text.output);
  assert.deepEqual(out, await valuesOf(source, ['output']));
}

test('online fp8 of tiny-b: text linears per-row E4M3 (streamed layer by layer + device quantizer, tensor by tensor, and the host uploadLinear path), the rest bf16; progress reads as one load', async () => {
  const backend = createCpuBackend({ threads: 1 });
  // The same backend without a device-side quantizer: the loader quantizes on the host.
  const hostOnly = Object.create(backend) as Backend;
  Object.defineProperty(hostOnly, 'quantizeLinear', { value: undefined });
  // The same backend counting its weight sinks: one streaming pass per decoder layer, one for the rest.
  let sinks = 0;
  const counting = Object.create(backend) as Backend;
  Object.defineProperty(counting, 'createWeightSink', { value: () => (sinks++, backend.createWeightSink()) });
  const ck = await openCheckpoint(fixture('models', 'tiny-b', 'hf'));
  try {
    for (const [b, parallel] of [[counting, undefined], [backend, { chunkBytes: 4096, readers: 2 }], [backend, false], [hostOnly, undefined]] as const) {
      const events: LoadProgress[] = [];
      const w = await loadModelWeights(ck.weights, b, { quantize: 'fp8', parallel, onProgress: (p) => events.push(p) });
      await checkQuantized(backend, w, ck.weights);
      freeModelWeights(backend, w);
      // One load as far as progress goes, even when it streams layer by layer.
      assert.deepEqual(events.filter((e) => e.phase !== 'progress').map((e) => e.phase), ['start', 'done']);
      assert.equal(events[0].phase, 'start');
      const last = events.at(-1)!;
      assert.equal(last.phase, 'done');
      assert.equal(last.bytesDone, last.bytesTotal);
      assert.equal(last.tensorsDone, last.tensorsTotal);
      assert.ok(events.every((e, k) => k === 0 || (e.bytesDone >= events[k - 1].bytesDone && e.tensorsDone >= events[k - 1].tensorsDone)));
    }
    assert.equal(sinks, ck.weights.config.text.numLayers + 1);
  } finally {
    await ck.weights.close();
    await backend.close();
  }
});

test('online fp8 of tiny-b: logprobs equal a dense checkpoint of the expected dequantized weights, bit for bit', async () => {
  const { dir, cleanup } = await tempDir();
  const backend = createCpuBackend({ threads: 1 });
  try {
    const twin = await writeOnlineTwin('tiny-b', dir);
    const online = await scorePrompts(fixture('models', 'tiny-b', 'hf'), 'tiny-b', backend, 'fp8');
    assert.deepEqual(online, await scorePrompts(twin, 'tiny-b', backend));
  } finally {
    await backend.close();
    await cleanup();
  }
});

test('quantization reaches the loader: LLM.create and openRunner (dummy weights too); unknown values are refused by name', async () => {
  const llm = await LLM.create({ quantization: 'fp8', maxModelLen: 64, maxNumSeqs: 2, threads: 1 });
  try {
    const [out] = await llm.generate([{ promptTokenIds: [1, 100, 200, 300] }], { temperature: 0, maxTokens: 4, ignoreEos: true });
    assert.equal(out.outputs[0].tokenIds.length, 4);
  } finally {
    await llm.close();
  }
  for (const loadFormat of ['auto', 'dummy'] as const) {
    const m = await openRunner({ model: fixture('models', 'tiny-b', 'hf'), loadFormat, quantization: 'fp8', device: 'cpu', threads: 1, maxModelLen: 64 });
    await m.close();
  }
  await assert.rejects(LLM.create({ quantization: 'int8' as never, threads: 1 }), /quantization must be one of fp8 \(got "int8"\)/);
});
