// FP8 checkpoints round-trip: each format of docs/quantization.md, written by the test from a
// tiny reference model (test/helpers/fp8Checkpoint.ts), loads on the CPU backend and gives
// exactly the logprobs of a dense F32 checkpoint holding the dequantized weights f32(e4m3 * s)
// (the CPU dequantizes at upload, so equality is bit for bit, not within a tolerance). The
// vision tower, projector and lm_head stay dense; fused wqkv / w13 concatenate rows and scales.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { TensorLinear } from '../../src/backend/tensorLinear.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { freeModelWeights, loadModelWeights } from '../../src/model/deviceWeights.js';
import { FP8_VARIANTS, writeFp8Checkpoint, type Fp8Variant } from '../helpers/fp8Checkpoint.js';
import { scorePrompts } from '../helpers/fp8Runs.js';
import { tempDir } from '../helpers/safetensors.js';

const TEXT_LINEARS_TINY_B = 2 * 7; // 2 layers x (wq, wk, wv, wo, w1, w2, w3)

for (const variant of FP8_VARIANTS) {
  test(`${variant}: an FP8 tiny-b loads (headers only read at open) and its logprobs equal the dequantized dense twin's bit for bit`, async () => {
    const { dir, cleanup } = await tempDir();
    const backend = createCpuBackend({ threads: 1 });
    try {
      const { fp8Dir, denseDir } = await writeFp8Checkpoint('tiny-b', variant, dir);
      const ck = await openCheckpoint(fp8Dir);
      // Opening checked every dtype, shape and scale from the headers; no tensor bytes were read.
      const headerBytes = (ck.weights as unknown as { bytesRead(): number }).bytesRead();
      assert.ok(headerBytes < 16384, `${headerBytes} bytes read at open`);
      assert.equal(ck.weights.fp8Weights?.size, TEXT_LINEARS_TINY_B);
      assert.ok([...ck.weights.fp8Weights!].every((n) => /^layers\.\d+\.(attention|feed_forward)\./.test(n)));
      await assert.rejects(ck.weights.get('layers.0.attention.wq'), /is FP8: read it with getFp8/);
      const w = await loadModelWeights(ck.weights, backend);
      const l0 = w.text.layers[0];
      for (const lin of [l0.wqkv, l0.wq, l0.wk, l0.wv, l0.wo, l0.w13, l0.w2]) assert.equal(lin.format, 'fp8');
      assert.deepEqual(l0.wqkv.shape, [6 * 16 + 2 * 16, 60]);
      assert.deepEqual(l0.wk.shape, [16, 60]);
      for (const lin of [w.vision!.patchConv, w.vision!.layers[0].wqkv, w.projector!.linear1, w.projector!.patchMerger]) assert.equal(lin.format, 'dense');
      assert.equal(w.text.output.dtype, 'f32'); // lm_head: a dense tensor
      // wq is the first rows of wqkv, and the bytes count what the CPU holds (f32).
      const qkv = await backend.download((l0.wqkv as TensorLinear).tensor);
      const k = await backend.download((l0.wk as TensorLinear).tensor);
      assert.deepEqual(k, qkv.subarray(96 * 60, 112 * 60));
      assert.equal(l0.wqkv.bytes, 4 * 128 * 60);
      freeModelWeights(backend, w);
      await ck.weights.close();

      const fp8 = await scorePrompts(fp8Dir, 'tiny-b', backend);
      const dense = await scorePrompts(denseDir, 'tiny-b', backend);
      assert.deepEqual(fp8, dense);
      assert.equal(fp8.length, 4); // text, instruct, one image, two images
    } finally {
      await backend.close();
      await cleanup();
    }
  });
}

test('tiny-a (other dimensions) round-trips as RedHat FP8-dynamic', async () => {
  const { dir, cleanup } = await tempDir();
  const backend = createCpuBackend({ threads: 1 });
  try {
    const variant: Fp8Variant = 'ct-channel';
    const { fp8Dir, denseDir } = await writeFp8Checkpoint('tiny-a', variant, dir);
    assert.deepEqual(await scorePrompts(fp8Dir, 'tiny-a', backend), await scorePrompts(denseDir, 'tiny-a', backend));
  } finally {
    await backend.close();
    await cleanup();
  }
});
