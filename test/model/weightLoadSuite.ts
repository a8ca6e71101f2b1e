// The streaming weight loader (src/model/parallelLoader.ts) against the tensor-by-tensor one
// it replaced, on a backend: every device weight must be bit-identical, for both layouts of
// the reference checkpoints, both HF naming generations, and chunk sizes that cut tensors
// (and the Mistral layout's RoPE-permuted heads) into many pieces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend } from '../../src/backend/backend.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { loadModelWeights, type LoadWeightsOptions } from '../../src/model/deviceWeights.js';
import type { LoadProgress } from '../../src/model/loadProgress.js';
import { SafetensorsFile } from '../../src/model/safetensorsFile.js';
import { fixture } from '../helpers/paths.js';
import { tempDir, writeSafetensors, type TensorToWrite } from '../helpers/safetensors.js';

/** tiny-a's HF tensors renamed to the newer generation (model.language_model.*, lm_head), in one file. */
export async function writeNewerNames(dir: string): Promise<void> {
  const src = fixture('models', 'tiny-a', 'hf');
  const out: TensorToWrite[] = [];
  for (const f of (await readdir(src)).filter((n) => n.endsWith('.safetensors')).sort()) {
    const file = await SafetensorsFile.open(join(src, f));
    for (const name of file.names()) {
      const t = await file.read(name);
      const renamed = name === 'language_model.lm_head.weight' ? 'lm_head.weight'
        : name.startsWith('language_model.model.') ? `model.language_model.${name.slice('language_model.model.'.length)}`
        : `model.${name}`;
      out.push({ name: renamed, dtype: file.entry(name).dtype, shape: t.shape, data: t.data });
    }
    await file.close();
  }
  await writeSafetensors(join(dir, 'model.safetensors'), out);
  await cp(join(src, 'config.json'), join(dir, 'config.json'));
}

async function weightsOf(dir: string, backend: Backend, options: LoadWeightsOptions): Promise<{ values: (Float32Array | Int32Array)[]; shapes: string[] }> {
  const ck = await openCheckpoint(dir);
  try {
    const w = await loadModelWeights(ck.weights, backend, options);
    const values = [];
    for (const t of w.all) values.push(await backend.download(t));
    const shapes = w.all.map((t) => `${t.dtype}[${t.shape.join(',')}]`);
    for (const t of w.all) backend.free(t);
    return { values, shapes };
  } finally {
    await ck.weights.close();
  }
}

export function runWeightLoadSuite(label: string, makeBackend: () => Backend | Promise<Backend>): void {
  test(`${label}: streamed weights are bit-identical to tensor-by-tensor uploads (tiny-a/b, HF and Mistral layouts, both HF name generations, several chunk sizes)`, async () => {
    const backend = await makeBackend();
    const { dir: newer, cleanup } = await tempDir();
    try {
      await writeNewerNames(newer);
      const dirs = [
        fixture('models', 'tiny-a', 'hf'), fixture('models', 'tiny-a', 'mistral'),
        fixture('models', 'tiny-b', 'hf'), fixture('models', 'tiny-b', 'mistral'), newer,
      ];
      for (const dir of dirs) {
        const reference = await weightsOf(dir, backend, { parallel: false });
        // 3000 bytes: one tiny-a q/k head (24 rows x 96 bytes) per chunk, embeddings in 31 pieces.
        for (const parallel of [{}, { chunkBytes: 3000, readers: 3 }, { chunkBytes: 1 << 12, readers: 1 }]) {
          const events: LoadProgress[] = [];
          const got = await weightsOf(dir, backend, { parallel, onProgress: (p) => events.push(p) });
          assert.deepEqual(got.shapes, reference.shapes, dir);
          got.values.forEach((v, i) => {
            const ref = reference.values[i];
            const same = Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(ref.buffer, ref.byteOffset, ref.byteLength));
            assert.ok(same, `${dir} chunk ${JSON.stringify(parallel)}: weight ${i} (${got.shapes[i]}) differs`);
          });
          const last = events.at(-1)!;
          assert.equal(events[0].phase, 'start');
          assert.equal(last.phase, 'done');
          assert.equal(last.bytesDone, last.bytesTotal);
          assert.equal(last.tensorsDone, last.tensorsTotal);
          assert.ok(events.every((e, k) => k === 0 || e.bytesDone >= events[k - 1].bytesDone));
        }
      }
    } finally {
      await cleanup();
      await backend.close();
    }
  });
}
