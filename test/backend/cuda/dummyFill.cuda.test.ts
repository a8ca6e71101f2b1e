// `--load-format dummy` on the GPU: the fill kernel reproduces the host generator
// (src/model/dummyWeights.ts) bit for bit, for tensors of the full-size config and for fused
// (row-concatenated) weights; and a runner over device-filled dummy weights computes exactly
// what one over the host-generated, uploaded weights does.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { CudaBackend } from '../../../src/backend/cuda/cudaBackend.js';
import { loadBuiltinConfig, MISTRAL_SMALL_3_1 } from '../../../src/model/builtinConfigs.js';
import type { DummyFillSpec } from '../../../src/backend/dummyFill.js';
import { DummyWeightSource, fillDummyBf16 } from '../../../src/model/dummyWeights.js';
import { createRunner } from '../../../src/model/modelRunner.js';
import { generate } from '../../helpers/engineGenerate.js';
import type { WeightSource } from '../../../src/model/weights.js';
import { tinyConfig } from '../../helpers/randomWeights.js';

const backend = new CudaBackend();
after(() => backend.close());

function hostBits(specs: readonly DummyFillSpec[]): Uint16Array {
  const n = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  const out = new Uint16Array(n);
  let off = 0;
  for (const s of specs) {
    const count = s.shape.reduce((x, y) => x * y, 1);
    fillDummyBf16(s, out.subarray(off, off + count));
    off += count;
  }
  return out;
}

async function deviceBits(specs: readonly DummyFillSpec[]): Promise<Uint16Array> {
  const t = backend.createDummyWeight(specs);
  const f = (await backend.download(t)) as Float32Array;
  backend.free(t);
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  return Uint16Array.from(u, (x) => x >>> 16);
}

function firstMismatch(a: Uint16Array, b: Uint16Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

test('the GPU fill equals the host generator bit for bit (full-size config tensors, seeds 0 and 7)', async () => {
  const cfg = await loadBuiltinConfig(MISTRAL_SMALL_3_1);
  for (const seed of [0, 7]) {
    const src = new DummyWeightSource(cfg, { seed });
    const names = seed === 0 ? ['norm', 'layers.3.attention.wk', 'layers.39.attention.wo', 'vision.patch_conv', 'projector.linear_1'] : ['norm', 'layers.3.attention.wk'];
    for (const name of names) {
      const spec = src.fillSpec(name);
      const i = firstMismatch(await deviceBits([spec]), hostBits([spec]));
      assert.equal(i, -1, `${name} (seed ${seed}): first differing element ${i}`);
    }
    // Fused q|k|v of one layer: three specs, one allocation.
    const qkv = ['wq', 'wk', 'wv'].map((w) => src.fillSpec(`layers.0.attention.${w}`));
    assert.equal(firstMismatch(await deviceBits(qkv), hostBits(qkv)), -1, 'fused wq|wk|wv');
  }
});

test('a runner over device-filled dummy weights == one over the host-generated weights', async () => {
  const cfg = tinyConfig({ vision: true, dtype: 'bf16' });
  const dummy = new DummyWeightSource(cfg, { seed: 5 });
  // The same source seen only through the WeightSource interface: weights generated on the host.
  const hostOnly: WeightSource = { config: dummy.config, names: () => dummy.names(), has: (n) => dummy.has(n), get: (n) => dummy.get(n), close: async () => {} };
  const ids = [1, 20, 30, 40, 50, 60];
  const out = [];
  for (const weights of [dummy, hostOnly]) {
    const runner = await createRunner({ weights, backend, maxModelLen: 64, maxNumSeqs: 1, maxNumBatchedTokens: 64 });
    out.push(await generate(runner, dummy.config, ids, [], { maxTokens: 6, temperature: 0, logprobs: 3, ignoreEos: true }));
    await runner.close();
  }
  assert.deepEqual(out[0].tokenIds, out[1].tokenIds);
  assert.deepEqual(out[0].logprobs, out[1].logprobs);
});
