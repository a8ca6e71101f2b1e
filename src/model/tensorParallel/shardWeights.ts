// One rank's text-decoder weights: each canonical tensor cut by the sharding plan
// (./shardPlan.ts) and uploaded, fused as src/model/deviceWeights.ts fuses them (wq|wk|wv of
// the rank's heads, w1|w3 of its intermediate rows). The embedding table gets one zero row
// after the rank's vocabulary rows: a token outside the rank's slice reads that row, so the
// all-reduce of the ranks' embeddings adds zeros to the one rank's true row (exact).
// Phase 1 reads each whole tensor through WeightSource.get and cuts it on the host; dense
// checkpoints only (an FP8 checkpoint is refused).
import type { Backend, DeviceTensor, LinearWeight } from '../../backend/backend.js';
import type { HostTensor } from '../../backend/hostTensor.js';
import type { TextConfig } from '../config.js';
import type { LayerWeights, TextWeights } from '../deviceWeights.js';
import { concatRows } from '../weightPlacer.js';
import type { WeightSource } from '../weights.js';
import { sliceHostTensor } from './hostSlice.js';
import { type TextShard, weightSlice } from './shardPlan.js';

/** A rank's text weights; `embeddings` is [vocab/N + 1, d] (last row zero), `output` [vocab/N, d]. */
export interface ShardTextWeights extends TextWeights {
  /** Every tensor and linear handle this rank uploaded, for freeShardWeights. */
  readonly tensors: readonly DeviceTensor[];
  readonly linears: readonly LinearWeight[];
}

export async function loadShardTextWeights(source: WeightSource, backend: Backend, shard: TextShard): Promise<ShardTextWeights> {
  const cfg: TextConfig = source.config.text;
  if (source.fp8Weights && source.fp8Weights.size > 0) throw new Error('tensor parallelism: FP8 checkpoints are not supported yet (dense weights only)');
  const tensors: DeviceTensor[] = [];
  const linears: LinearWeight[] = [];
  const read = async (name: string): Promise<HostTensor> => sliceHostTensor(await source.get(name), weightSlice(name, cfg, shard));
  const tensor = async (name: string): Promise<DeviceTensor> => {
    const t = backend.uploadWeight(await read(name));
    tensors.push(t);
    return t;
  };
  const linear = async (name: string, parts: readonly string[]): Promise<LinearWeight> => {
    const host = parts.length === 1 ? await read(parts[0]) : concatRows(name, await Promise.all(parts.map(read)));
    const w = backend.uploadLinear(host);
    linears.push(w);
    return w;
  };
  try {
    const qRows = shard.qHeads.count * cfg.headDim;
    const kvRows = shard.kvHeads.count * cfg.headDim;
    const layers: LayerWeights[] = [];
    for (let l = 0; l < cfg.numLayers; l++) {
      const p = `layers.${l}.`;
      const wqkv = await linear(`${p}attention.wqkv`, [`${p}attention.wq`, `${p}attention.wk`, `${p}attention.wv`]);
      layers.push({
        attentionNorm: await tensor(`${p}attention_norm`),
        wqkv,
        wq: backend.linearRows(wqkv, 0, qRows),
        wk: backend.linearRows(wqkv, qRows, kvRows),
        wv: backend.linearRows(wqkv, qRows + kvRows, kvRows),
        wo: await linear(`${p}attention.wo`, [`${p}attention.wo`]),
        ffnNorm: await tensor(`${p}ffn_norm`),
        w13: await linear(`${p}feed_forward.w13`, [`${p}feed_forward.w1`, `${p}feed_forward.w3`]),
        w2: await linear(`${p}feed_forward.w2`, [`${p}feed_forward.w2`]),
      });
    }
    const rows = await read('tok_embeddings');
    const zeroRow: HostTensor = { name: 'zero row', dtype: rows.dtype, shape: [1, cfg.hiddenSize], data: new Uint8Array(rows.data.byteLength / rows.shape[0]) };
    const embeddings = backend.uploadWeight(concatRows('tok_embeddings', [rows, zeroRow]));
    tensors.push(embeddings);
    const vl = shard.vocab.count;
    const output = cfg.tiedEmbeddings ? backend.view(embeddings, [vl, cfg.hiddenSize]) : await tensor('output');
    return { embeddings, layers, norm: await tensor('norm'), output, tensors, linears };
  } catch (err) {
    freeShardWeights(backend, { tensors, linears });
    throw err;
  }
}

export function freeShardWeights(backend: Backend, w: Pick<ShardTextWeights, 'tensors' | 'linears'>): void {
  for (const l of w.linears) backend.freeLinear(l);
  for (const t of w.tensors) backend.free(t);
}

/** Token ids as rank `shard` reads its embedding table: id - vocab.start inside its slice,
 *  else the zero row (index vocab.count). */
export function localTokenIds(ids: Int32Array, shard: TextShard): Int32Array {
  const { start, count } = shard.vocab;
  return ids.map((id) => (id >= start && id < start + count ? id - start : count));
}
