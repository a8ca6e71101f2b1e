import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { CheckpointError } from '../../src/model/checkpointError.js';
import { SafetensorsFile } from '../../src/model/safetensorsFile.js';
import { fixture } from '../helpers/paths.js';
import { tempDir, writeSafetensors, type TensorToWrite } from '../helpers/safetensors.js';

const MODELS = ['tiny-a', 'tiny-b'];
const hfDir = (m: string) => fixture('models', m, 'hf');
const mistralDir = (m: string) => fixture('models', m, 'mistral');

/** Every tensor of an HF fixture, by on-disk name. */
async function readHfTensors(dir: string): Promise<TensorToWrite[]> {
  const out: TensorToWrite[] = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).sort()) {
    const file = await SafetensorsFile.open(join(dir, f));
    for (const name of file.names()) {
      const t = await file.read(name);
      out.push({ name, dtype: file.entry(name).dtype, shape: t.shape, data: t.data });
    }
    await file.close();
  }
  return out;
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const { dir, cleanup } = await tempDir();
  try {
    await fn(dir);
  } finally {
    await cleanup();
  }
}

test('both layouts of each reference model give byte-identical canonical tensors (the RoPE permutation holds)', async () => {
  for (const m of MODELS) {
    const hf = await openCheckpoint(hfDir(m));
    const mi = await openCheckpoint(mistralDir(m));
    assert.equal(hf.layout, 'hf');
    assert.equal(mi.layout, 'mistral');
    assert.deepEqual([...hf.weights.names()].sort(), [...mi.weights.names()].sort());
    assert.equal(hf.weights.config.dtype, 'bf16');
    assert.deepEqual(hf.weights.config.text.headDim, mi.weights.config.text.headDim);
    const names = hf.weights.names();
    assert.ok(names.includes('vision.layers.0.attention.wq') && names.includes('projector.patch_merger'));
    for (const name of names) {
      const a = await hf.weights.get(name);
      const b = await mi.weights.get(name);
      assert.equal(a.name, name);
      assert.deepEqual(a.shape, b.shape, name);
      assert.equal(a.dtype, b.dtype, name);
      assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), `${m} ${name} differs between layouts`);
    }
    await hf.weights.close();
    await mi.weights.close();
  }
});

test('the Mistral file really stores q/k rows interleaved (the identity above is not vacuous)', async () => {
  for (const m of MODELS) {
    const raw = await SafetensorsFile.open(join(mistralDir(m), 'consolidated.safetensors'));
    const ck = await openCheckpoint(mistralDir(m));
    for (const [disk, canonical] of [
      ['layers.0.attention.wq.weight', 'layers.0.attention.wq'],
      ['layers.0.attention.wk.weight', 'layers.0.attention.wk'],
      ['vision_encoder.transformer.layers.0.attention.wk.weight', 'vision.layers.0.attention.wk'],
    ]) {
      const stored = await raw.read(disk);
      const canon = await ck.weights.get(canonical);
      assert.ok(!Buffer.from(stored.data).equals(Buffer.from(canon.data)), `${m} ${disk} is not permuted`);
    }
    const wv = await raw.read('layers.0.attention.wv.weight');
    assert.ok(Buffer.from(wv.data).equals(Buffer.from((await ck.weights.get('layers.0.attention.wv')).data)), 'wv is never permuted');
    await raw.close();
    await ck.weights.close();
  }
});

test('tokenizer: the Mistral dir\'s tekken.json, none in the HF dir, or an explicit path', async () => {
  const mi = await openCheckpoint(mistralDir('tiny-a'));
  assert.equal(mi.tokenizerPath, join(mistralDir('tiny-a'), 'tekken.json'));
  await mi.weights.close();
  const hf = await openCheckpoint(hfDir('tiny-a'));
  assert.equal(hf.tokenizerPath, null);
  await hf.weights.close();
  const explicit = join(mistralDir('tiny-a'), 'tekken.json');
  const hf2 = await openCheckpoint(hfDir('tiny-a'), { tokenizerPath: explicit });
  assert.equal(hf2.tokenizerPath, explicit);
  await hf2.weights.close();
  await assert.rejects(openCheckpoint(hfDir('tiny-a'), { tokenizerPath: '/nonexistent/tekken.json' }), /tokenizer file \/nonexistent\/tekken\.json does not exist/);
});

test('a directory holding both layouts is read as Mistral unless the HF layout is asked for', async () => {
  await withTemp(async (dir) => {
    await cp(hfDir('tiny-b'), dir, { recursive: true });
    await cp(mistralDir('tiny-b'), dir, { recursive: true });
    const auto = await openCheckpoint(dir);
    assert.equal(auto.layout, 'mistral');
    assert.equal(auto.configPath, join(dir, 'params.json'));
    assert.equal(auto.weights.config.format, 'mistral');
    await auto.weights.close();
    const hf = await openCheckpoint(dir, { layout: 'hf' });
    assert.equal(hf.layout, 'hf');
    assert.equal(hf.weights.config.format, 'hf');
    assert.equal(hf.tokenizerPath, join(dir, 'tekken.json'));
    await hf.weights.close();
    await assert.rejects(openCheckpoint(hfDir('tiny-b'), { layout: 'mistral' }), /has no Mistral-layout checkpoint/);
  });
});

test('the newer HF names (model.language_model.*, lm_head) in one model.safetensors read the same', async () => {
  await withTemp(async (dir) => {
    const renamed = (await readHfTensors(hfDir('tiny-a'))).map((t) => ({
      ...t,
      name: t.name === 'language_model.lm_head.weight' ? 'lm_head.weight'
        : t.name.startsWith('language_model.model.') ? `model.language_model.${t.name.slice('language_model.model.'.length)}`
        : `model.${t.name}`,
    }));
    assert.ok(renamed.some((t) => t.name.startsWith('model.vision_tower.')) && renamed.some((t) => t.name.startsWith('model.multi_modal_projector.')));
    await writeSafetensors(join(dir, 'model.safetensors'), renamed);
    await cp(join(hfDir('tiny-a'), 'config.json'), join(dir, 'config.json'));
    const a = await openCheckpoint(dir);
    const b = await openCheckpoint(mistralDir('tiny-a'));
    assert.deepEqual([...a.weights.names()].sort(), [...b.weights.names()].sort());
    for (const name of a.weights.names()) {
      assert.ok(Buffer.from((await a.weights.get(name)).data).equals(Buffer.from((await b.weights.get(name)).data)), name);
    }
    await a.weights.close();
    await b.weights.close();
  });
});

test('a text-only MistralForCausalLM checkpoint (model.*, lm_head) opens with no vision part', async () => {
  await withTemp(async (dir) => {
    const text = (await readHfTensors(hfDir('tiny-a')))
      .filter((t) => t.name.startsWith('language_model.'))
      .map((t) => ({ ...t, name: t.name === 'language_model.lm_head.weight' ? 'lm_head.weight' : t.name.slice('language_model.'.length) }));
    await writeSafetensors(join(dir, 'model.safetensors'), text);
    const full = JSON.parse(await readFile(join(hfDir('tiny-a'), 'config.json'), 'utf8'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...full.text_config, architectures: ['MistralForCausalLM'], dtype: 'bfloat16' }));
    const ck = await openCheckpoint(dir);
    assert.equal(ck.weights.config.vision, null);
    assert.equal(ck.weights.config.projector, null);
    const ref = await openCheckpoint(hfDir('tiny-a'));
    const textNames = ref.weights.names().filter((n) => !n.startsWith('vision.') && !n.startsWith('projector.'));
    assert.deepEqual([...ck.weights.names()].sort(), [...textNames].sort());
    for (const name of textNames) {
      assert.ok(Buffer.from((await ck.weights.get(name)).data).equals(Buffer.from((await ref.weights.get(name)).data)), name);
    }
    await ck.weights.close();
    await ref.weights.close();
  });
});

test('a Hugging Face cache snapshot (every file a symlink to a blob) opens like the files themselves', async () => {
  await withTemp(async (dir) => {
    for (const f of await readdir(hfDir('tiny-b'))) await symlink(join(hfDir('tiny-b'), f), join(dir, f));
    const ck = await openCheckpoint(dir);
    const ref = await openCheckpoint(hfDir('tiny-b'));
    assert.equal(ck.layout, 'hf');
    const a = await ck.weights.get('projector.linear_1');
    assert.ok(Buffer.from(a.data).equals(Buffer.from((await ref.weights.get('projector.linear_1')).data)));
    await ck.weights.close();
    await ref.weights.close();
  });
});

test('weights are read lazily: opening reads headers only, get() reads only its tensor', async () => {
  const ck = await openCheckpoint(mistralDir('tiny-b'));
  const weights = ck.weights as unknown as { bytesRead(): number };
  const file = await SafetensorsFile.open(join(mistralDir('tiny-b'), 'consolidated.safetensors'));
  const headerBytes = file.bytesRead;
  assert.equal(weights.bytesRead(), headerBytes);
  const t = await ck.weights.get('layers.1.feed_forward.w2');
  assert.equal(weights.bytesRead(), headerBytes + t.data.byteLength);
  assert.equal(t.data.byteLength, file.entry('layers.1.feed_forward.w2.weight').byteLength);
  await file.close();
  await assert.rejects(ck.weights.get('layers.9.attention.wq'), /no weight layers\.9\.attention\.wq in checkpoint/);
  await ck.weights.close();
});

test('bad directories: nonexistent, not a directory, no config, params.json without weights', async () => {
  await assert.rejects(openCheckpoint('/nonexistent/model'), (e: Error) => e instanceof CheckpointError && /model directory \/nonexistent\/model does not exist/.test(e.message));
  await assert.rejects(openCheckpoint(join(hfDir('tiny-a'), 'config.json')), /is not a directory/);
  await withTemp(async (dir) => {
    await assert.rejects(openCheckpoint(dir), /holds neither config\.json \(HF layout\) nor params\.json \(Mistral layout\)/);
    await cp(join(mistralDir('tiny-a'), 'params.json'), join(dir, 'params.json'));
    await assert.rejects(openCheckpoint(dir), /has params\.json but no consolidated\.safetensors/);
    await rm(join(dir, 'params.json'));
    await cp(join(hfDir('tiny-a'), 'config.json'), join(dir, 'config.json'));
    await assert.rejects(openCheckpoint(dir), /has config\.json but no weights/);
  });
});

test('a missing shard, or an index naming a tensor its shard lacks, is named', async () => {
  await withTemp(async (dir) => {
    await cp(hfDir('tiny-a'), dir, { recursive: true });
    await rm(join(dir, 'model-00003-of-00004.safetensors'));
    await assert.rejects(openCheckpoint(dir), /missing shard .*model-00003-of-00004\.safetensors: .*model\.safetensors\.index\.json places \d+ tensors there/);
  });
  await withTemp(async (dir) => {
    await cp(hfDir('tiny-a'), dir, { recursive: true });
    const indexPath = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8'));
    const [tensor, shard] = Object.entries(index.weight_map as Record<string, string>)[0];
    index.weight_map[tensor] = shard === 'model-00001-of-00004.safetensors' ? 'model-00002-of-00004.safetensors' : 'model-00001-of-00004.safetensors';
    await writeFile(indexPath, JSON.stringify(index));
    await assert.rejects(openCheckpoint(dir), new RegExp(`missing tensor ${tensor.replace(/\./g, '\\.')}: .* places it in .*, which does not hold it`));
  });
});

/** A one-file HF copy of tiny-b with its tensors transformed. */
async function editedHf(dir: string, edit: (ts: TensorToWrite[]) => TensorToWrite[]): Promise<void> {
  await writeSafetensors(join(dir, 'model.safetensors'), edit(await readHfTensors(hfDir('tiny-b'))));
  await cp(join(hfDir('tiny-b'), 'config.json'), join(dir, 'config.json'));
}

test('a missing tensor, a wrong shape, an unexpected tensor and FP8 weights are each named', async () => {
  await withTemp(async (dir) => {
    await editedHf(dir, (ts) => ts.filter((t) => t.name !== 'language_model.model.layers.1.mlp.up_proj.weight'));
    await assert.rejects(openCheckpoint(dir), /missing tensor layers\.1\.feed_forward\.w3: .*config\.json describes a model that needs it/);
  });
  await withTemp(async (dir) => {
    await editedHf(dir, (ts) => ts);
    const cfgPath = join(dir, 'config.json');
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8'));
    cfg.text_config.intermediate_size += 4;
    await writeFile(cfgPath, JSON.stringify(cfg));
    await assert.rejects(
      openCheckpoint(dir),
      /tensor language_model\.model\.layers\.0\.mlp\.gate_proj\.weight in .*model\.safetensors has shape \[100, 60\] but .*config\.json implies \[104, 60\]/,
    );
  });
  await withTemp(async (dir) => {
    await editedHf(dir, (ts) => [...ts, { name: 'language_model.model.layers.0.self_attn.q_proj.bias', dtype: 'BF16', shape: [96], data: new Uint8Array(192) }]);
    await assert.rejects(openCheckpoint(dir), /unexpected tensor language_model\.model\.layers\.0\.self_attn\.q_proj\.bias in .*model\.safetensors/);
  });
  await withTemp(async (dir) => {
    // a third layer's weights in a two-layer model
    await editedHf(dir, (ts) => [...ts, ...ts.filter((t) => t.name.includes('layers.1.')).map((t) => ({ ...t, name: t.name.replace('layers.1.', 'layers.2.') }))]);
    await assert.rejects(openCheckpoint(dir), /unexpected tensor .*layers\.2\..* describes no such weight/);
  });
  await withTemp(async (dir) => {
    await editedHf(dir, (ts) => ts.map((t) => t.name.endsWith('layers.0.self_attn.o_proj.weight')
      ? { ...t, dtype: 'F8_E4M3', data: t.data.subarray(0, t.data.byteLength / 2) } : t));
    await assert.rejects(openCheckpoint(dir), /tensor language_model\.model\.layers\.0\.self_attn\.o_proj\.weight in .* is F8_E4M3 \(FP8\) but .*config\.json declares no quantization/);
  });
  await withTemp(async (dir) => {
    await cp(mistralDir('tiny-b'), dir, { recursive: true });
    const p = JSON.parse(await readFile(join(dir, 'params.json'), 'utf8'));
    p.n_kv_heads = 2;
    await writeFile(join(dir, 'params.json'), JSON.stringify(p));
    await assert.rejects(openCheckpoint(dir), /tensor layers\.0\.attention\.wk\.weight in .*consolidated\.safetensors has shape \[16, 60\] but .*params\.json implies \[32, 60\]/);
  });
});
