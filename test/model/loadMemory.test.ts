// The streaming loader's host memory is its staging buffers, not the model: a 2.3 GB synthetic
// checkpoint (a sparse file: holes read as zeros, so the test writes almost nothing to disk)
// streams through a device that keeps only a fingerprint of what lands where, while the
// process's ArrayBuffer and RSS growth are sampled at every chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend, DeviceTensor } from '../../src/backend/backend.js';
import type { WeightSink } from '../../src/backend/backend.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { loadWeightsParallel } from '../../src/model/parallelLoader.js';
import { planWeights } from '../../src/model/weightPlan.js';
import { tempDir } from '../helpers/safetensors.js';

const TEXT = { hidden: 4096, inter: 14336, layers: 4, heads: 32, kvHeads: 8, headDim: 128, vocab: 32768 };

function tensorsOf(): { name: string; shape: number[] }[] {
  const t = TEXT;
  const out = [{ name: 'model.embed_tokens.weight', shape: [t.vocab, t.hidden] }];
  for (let l = 0; l < t.layers; l++) {
    const p = `model.layers.${l}.`;
    out.push(
      { name: `${p}input_layernorm.weight`, shape: [t.hidden] },
      { name: `${p}post_attention_layernorm.weight`, shape: [t.hidden] },
      { name: `${p}self_attn.q_proj.weight`, shape: [t.heads * t.headDim, t.hidden] },
      { name: `${p}self_attn.k_proj.weight`, shape: [t.kvHeads * t.headDim, t.hidden] },
      { name: `${p}self_attn.v_proj.weight`, shape: [t.kvHeads * t.headDim, t.hidden] },
      { name: `${p}self_attn.o_proj.weight`, shape: [t.hidden, t.heads * t.headDim] },
      { name: `${p}mlp.gate_proj.weight`, shape: [t.inter, t.hidden] },
      { name: `${p}mlp.up_proj.weight`, shape: [t.inter, t.hidden] },
      { name: `${p}mlp.down_proj.weight`, shape: [t.hidden, t.inter] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [t.hidden] }, { name: 'lm_head.weight', shape: [t.vocab, t.hidden] });
  return out;
}

/** A sparse model.safetensors: real header, each tensor's first and last 8 bytes set (a marker
 *  from its index), zeros between. Returns the markers by disk name. */
async function writeSparseCheckpoint(dir: string): Promise<{ bytes: number; markers: Map<string, [bigint, bigint]> }> {
  const ts = tensorsOf();
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  const spans: [string, number, number][] = [];
  for (const t of ts) {
    const len = t.shape.reduce((a, d) => a * d, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + len] };
    spans.push([t.name, offset, len]);
    offset += len;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const dataStart = 8 + Buffer.byteLength(json);
  const fh = await open(join(dir, 'model.safetensors'), 'w');
  const markers = new Map<string, [bigint, bigint]>();
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    await fh.write(Buffer.concat([len, Buffer.from(json)]), 0, undefined, 0);
    await fh.truncate(dataStart + offset);
    for (const [i, [name, at, n]] of spans.entries()) {
      const head = 0x0101_0101_0000_0000n + BigInt(i);
      const tail = 0x0202_0202_0000_0000n + BigInt(i);
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(head);
      await fh.write(b, 0, 8, dataStart + at);
      b.writeBigUInt64LE(tail);
      await fh.write(b, 0, 8, dataStart + at + n - 8);
      markers.set(name, [head, tail]);
    }
  } finally {
    await fh.close();
  }
  const t = TEXT;
  await writeFile(join(dir, 'config.json'), JSON.stringify({
    architectures: ['MistralForCausalLM'], model_type: 'mistral', hidden_size: t.hidden, intermediate_size: t.inter,
    num_hidden_layers: t.layers, num_attention_heads: t.heads, num_key_value_heads: t.kvHeads, head_dim: t.headDim,
    vocab_size: t.vocab, rms_norm_eps: 1e-5, rope_theta: 1e6, max_position_embeddings: 32768, hidden_act: 'silu', dtype: 'bfloat16',
  }));
  return { bytes: offset, markers };
}

interface Fingerprint { numel: number; first?: bigint; last?: bigint; written: number }

/** A device that keeps, per tensor, the bytes written and the first and last 8 bytes. */
function fingerprintDevice(): { backend: Backend; prints: Map<DeviceTensor, Fingerprint> } {
  const prints = new Map<DeviceTensor, Fingerprint>();
  const sink: WeightSink = {
    allocWeight(shape) {
      const t: DeviceTensor = { shape, dtype: 'bf16' };
      prints.set(t, { numel: shape.reduce((a, d) => a * d, 1), written: 0 });
      return t;
    },
    stagingBuffers: (count, bytes) => Array.from({ length: count }, () => new Uint8Array(bytes)),
    async write(dst, offset, src) {
      const p = prints.get(dst)!;
      const view = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
      const n = src.byteLength / 2;
      if (offset === 0) p.first = view.readBigUInt64LE(0);
      if (offset + n === p.numel) p.last = view.readBigUInt64LE(src.byteLength - 8);
      p.written += src.byteLength;
    },
    async finish() {},
    close() {},
  };
  const backend = { name: 'fingerprint', createWeightSink: () => sink, free: () => {} } as unknown as Backend;
  return { backend, prints };
}

test('loading a 2.3 GB checkpoint holds host memory to the staging buffers (and every tensor lands whole)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { bytes, markers } = await writeSparseCheckpoint(dir);
    assert.ok(bytes > 2.2e9);
    const ck = await openCheckpoint(dir);
    const { backend, prints } = fingerprintDevice();
    const readers = 4;
    const chunkBytes = 16 << 20;
    const base = process.memoryUsage();
    let peakRss = base.rss;
    let peakBuffers = base.arrayBuffers;
    const res = await loadWeightsParallel(ck.weights, backend, planWeights(ck.weights.config), {
      readers,
      chunkBytes,
      onProgress: () => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
      },
    });
    await ck.weights.close();
    assert.equal(res.bytes, bytes);
    const staging = readers * chunkBytes;
    const MiB = 2 ** 20;
    assert.ok(peakBuffers - base.arrayBuffers <= staging + 16 * MiB, `ArrayBuffers grew ${((peakBuffers - base.arrayBuffers) / MiB).toFixed(0)} MiB (staging ${staging / MiB} MiB)`);
    assert.ok(peakRss - base.rss <= staging + 192 * MiB, `RSS grew ${((peakRss - base.rss) / MiB).toFixed(0)} MiB while ${(bytes / MiB).toFixed(0)} MiB streamed`);
    // Every byte placed; fused tensors carry their parts' markers at their ends.
    for (const p of prints.values()) assert.equal(p.written, p.numel * 2);
    const key = (name: string) => res.tensors.get(name)!;
    const m = (disk: string) => markers.get(disk)!;
    assert.equal(prints.get(key('tok_embeddings'))!.first, m('model.embed_tokens.weight')[0]);
    assert.equal(prints.get(key('output'))!.last, m('lm_head.weight')[1]);
    for (let l = 0; l < TEXT.layers; l++) {
      const qkv = prints.get(key(`layers.${l}.attention.wqkv`))!;
      assert.equal(qkv.first, m(`model.layers.${l}.self_attn.q_proj.weight`)[0]);
      assert.equal(qkv.last, m(`model.layers.${l}.self_attn.v_proj.weight`)[1]);
      const w13 = prints.get(key(`layers.${l}.feed_forward.w13`))!;
      assert.equal(w13.first, m(`model.layers.${l}.mlp.gate_proj.weight`)[0]);
      assert.equal(w13.last, m(`model.layers.${l}.mlp.up_proj.weight`)[1]);
    }
  } finally {
    await cleanup();
  }
});
