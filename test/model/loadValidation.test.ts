// Issue 12: every problem a checkpoint can have is found when it is opened (headers, index and
// config only), before a byte of weights is read, with the file and the field named; tied
// embeddings load (the output projection is the embedding table).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, open, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { CheckpointError } from '../../src/model/checkpointError.js';
import { loadModelWeights } from '../../src/model/deviceWeights.js';
import { openRunner } from '../../src/engine/composition.js';
import { openModelSource } from '../../src/model/modelSource.js';
import { SafetensorsFile } from '../../src/model/safetensorsFile.js';
import { fixture } from '../helpers/paths.js';
import { tempDir, writeSafetensors, type TensorToWrite } from '../helpers/safetensors.js';

const hfDir = (m: string) => fixture('models', m, 'hf');

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    await fn(dir);
  } finally {
    await cleanup();
  }
}

async function hfTensors(dir: string): Promise<TensorToWrite[]> {
  const out: TensorToWrite[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).sort()) {
    const file = await SafetensorsFile.open(join(dir, f));
    for (const name of file.names()) out.push({ name, dtype: file.entry(name).dtype, shape: file.entry(name).shape, data: (await file.read(name)).data });
    await file.close();
  }
  return out;
}

/** tiny-b in one model.safetensors, tensors and config.json edited. */
async function editedTinyB(dir: string, tensors: (ts: TensorToWrite[]) => TensorToWrite[], config: (c: Record<string, Record<string, unknown>>) => void = () => {}): Promise<void> {
  await writeSafetensors(join(dir, 'model.safetensors'), tensors(await hfTensors(hfDir('tiny-b'))));
  const cfg = JSON.parse(await readFile(join(hfDir('tiny-b'), 'config.json'), 'utf8'));
  config(cfg);
  await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
}

/** The problem must surface from the composition root (the CPU runner) too, as the same CheckpointError. */
async function refused(dir: string, re: RegExp): Promise<void> {
  await assert.rejects(openCheckpoint(dir), (e: Error) => e instanceof CheckpointError && re.test(e.message));
  await assert.rejects(openRunner({ model: dir, loadFormat: 'auto', device: 'cpu', threads: 1 }), re);
}

test('a truncated shard is refused when opened, naming the file and the tensor that runs past its end', async () => {
  await withTemp(async (dir) => {
    await cp(hfDir('tiny-a'), dir, { recursive: true });
    const shard = join(dir, 'model-00002-of-00004.safetensors');
    await truncate(shard, (await stat(shard)).size - 100);
    await refused(dir, /model-00002-of-00004\.safetensors is truncated: tensor \S+ needs data bytes up to \d+ but the file holds \d+ after its header/);
  });
});

test('a missing tensor, a wrong shape, a wrong dtype and fused tensors of two dtypes are refused naming file and tensor', async () => {
  const wk = 'language_model.model.layers.1.self_attn.k_proj.weight';
  await withTemp(async (dir) => {
    await editedTinyB(dir, (ts) => ts.filter((t) => t.name !== wk));
    await refused(dir, /missing tensor layers\.1\.attention\.wk: .*config\.json describes a model that needs it/);
  });
  await withTemp(async (dir) => {
    await editedTinyB(dir, (ts) => ts.map((t) => (t.name === wk ? { ...t, shape: [t.shape[1], t.shape[0]] } : t)));
    await refused(dir, new RegExp(`tensor ${wk.replace(/\./g, '\\.')} in .*model\\.safetensors has shape \\[60, 16\\] but .*config\\.json implies \\[16, 60\\]`));
  });
  await withTemp(async (dir) => {
    await editedTinyB(dir, (ts) => ts.map((t) => (t.name === wk ? { ...t, dtype: 'I16' } : t)));
    await refused(dir, new RegExp(`tensor ${wk.replace(/\./g, '\\.')} in .*model\\.safetensors has dtype I16: only BF16, F16 and F32`));
  });
  await withTemp(async (dir) => {
    // wk as f32 (twice the bytes), wq and wv bf16: each readable alone, but not fusable into wqkv.
    const widen = (t: TensorToWrite): TensorToWrite => {
      const f = new Float32Array(t.data.byteLength / 2);
      const u = new Uint16Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
      new Uint32Array(f.buffer).forEach((_, i, a) => (a[i] = u[i] << 16));
      return { ...t, dtype: 'F32', data: new Uint8Array(f.buffer) };
    };
    await editedTinyB(dir, (ts) => ts.map((t) => (t.name === wk ? widen(t) : t)));
    await refused(dir, new RegExp(`tensor ${wk.replace(/\./g, '\\.')} in .*model\\.safetensors is F32 but .*q_proj\\.weight in .* is BF16: they are fused into one weight \\(layers\\.1\\.attention\\.wqkv\\)`));
  });
});

test('a vision hidden_act the engine does not run (gelu, or absent: gelu in transformers) is refused with the field named, for real and dummy weights', async () => {
  for (const act of ['gelu', undefined]) {
    await withTemp(async (dir) => {
      await editedTinyB(dir, (ts) => ts, (c) => {
        if (act === undefined) delete c.vision_config.hidden_act;
        else c.vision_config.hidden_act = act;
      });
      await refused(dir, /config\.json vision_config: field hidden_act: .*"gelu".* is not supported: the vision MLP runs SiLU-gated only/);
      await assert.rejects(openModelSource({ model: dir, loadFormat: 'dummy' }), /vision_config: field hidden_act/);
    });
  }
});

test('tied embeddings (top-level tie_word_embeddings, no lm_head) load with the output projection = the embedding table; a saved lm_head is then ignored', async () => {
  const backend = createCpuBackend({ threads: 1 });
  try {
    for (const keepHead of [false, true]) {
      await withTemp(async (dir) => {
        await editedTinyB(dir, (ts) => ts.filter((t) => keepHead || t.name !== 'language_model.lm_head.weight'), (c) => {
          (c as Record<string, unknown>).tie_word_embeddings = true;
        });
        const ck = await openCheckpoint(dir);
        assert.equal(ck.weights.config.text.tiedEmbeddings, true);
        assert.equal(ck.weights.has('output'), false);
        const w = await loadModelWeights(ck.weights, backend);
        assert.equal(w.text.output, w.text.embeddings);
        assert.equal(new Set(w.all).size, w.all.length);
        for (const t of w.all) backend.free(t);
        await ck.weights.close();
      });
    }
    // Untied (the fixture as written): a separate output tensor.
    const ck = await openCheckpoint(hfDir('tiny-b'));
    const w = await loadModelWeights(ck.weights, backend);
    assert.notEqual(w.text.output, w.text.embeddings);
    for (const t of w.all) backend.free(t);
    await ck.weights.close();
  } finally {
    await backend.close();
  }
  // The Mistral layout says it with tied_embeddings; consolidated.safetensors then has no output.weight.
  await withTemp(async (dir) => {
    const src = fixture('models', 'tiny-b', 'mistral');
    const file = await SafetensorsFile.open(join(src, 'consolidated.safetensors'));
    const ts: TensorToWrite[] = [];
    for (const name of file.names()) if (name !== 'output.weight') ts.push({ name, dtype: file.entry(name).dtype, shape: file.entry(name).shape, data: (await file.read(name)).data });
    await file.close();
    await writeSafetensors(join(dir, 'consolidated.safetensors'), ts);
    const params = JSON.parse(await readFile(join(src, 'params.json'), 'utf8'));
    await writeFile(join(dir, 'params.json'), JSON.stringify({ ...params, tied_embeddings: true }));
    const m = await openRunner({ model: dir, loadFormat: 'auto', device: 'cpu', threads: 1, tokenizer: join(src, 'tekken.json') });
    assert.equal(m.source.config.text.tiedEmbeddings, true);
    await m.close();
  });
});

test('a shard cut short after it was opened fails the streaming load naming the file', async () => {
  await withTemp(async (dir) => {
    await cp(hfDir('tiny-a'), dir, { recursive: true });
    const ck = await openCheckpoint(dir);
    const shard = join(dir, 'model-00003-of-00004.safetensors');
    const fh = await open(shard, 'r+');
    await fh.truncate((await fh.stat()).size - 64);
    await fh.close();
    const backend = createCpuBackend({ threads: 1 });
    try {
      await assert.rejects(loadModelWeights(ck.weights, backend), (e: Error) => e instanceof CheckpointError && /model-00003-of-00004\.safetensors is truncated/.test(e.message));
    } finally {
      await ck.weights.close();
      await backend.close();
      await rm(shard);
    }
  });
});
