import type { Fp8HostWeight } from '../backend/backend.js';
import type { HostTensor } from '../backend/hostTensor.js';
import type { ModelConfig } from './config.js';

export type { HostTensor, Fp8HostWeight };

/**
 * A checkpoint, whatever its layout on disk, seen through canonical weight names (below).
 * Query/key projection rows are always in the HF "rotate half" RoPE layout: a loader of the
 * Mistral layout permutes wq/wk rows as it reads them (docs/model.md#rope-permutation).
 *
 * Canonical names (shapes as [out, in], L = layer index):
 *   text:      tok_embeddings [vocab, hidden]; norm [hidden]; output [vocab, hidden]
 *              layers.L.attention_norm [hidden]; layers.L.ffn_norm [hidden]
 *              layers.L.attention.wq [heads*headDim, hidden]; .wk/.wv [kvHeads*headDim, hidden]
 *              layers.L.attention.wo [hidden, heads*headDim]
 *              layers.L.feed_forward.w1 (gate) / w3 (up) [inter, hidden]; w2 (down) [hidden, inter]
 *   vision:    vision.patch_conv [vHidden, 3, patch, patch]; vision.ln_pre [vHidden]
 *              vision.layers.L.{attention_norm, ffn_norm, attention.{wq,wk,wv,wo},
 *                               feed_forward.{w1,w2,w3}} as above with vision sizes
 *   projector: projector.norm [vHidden]; projector.patch_merger [vHidden, vHidden*merge^2]
 *              projector.linear_1 [hidden, vHidden]; projector.linear_2 [hidden, hidden]
 */
export interface WeightSource {
  readonly config: ModelConfig;
  /** Canonical names present in the checkpoint. */
  names(): readonly string[];
  /** Whether the source holds a tensor of this name. */
  has(name: string): boolean;
  /** Reads one tensor (lazily, from its file offset). Throws naming the tensor and the file
   *  when it is missing, truncated, or its shape disagrees with the config. */
  get(name: string): Promise<HostTensor>;
  /** Canonical names of the linear weights stored as FP8 (E4M3 data with scales, read with
   *  getFp8; get refuses them). Absent or empty: every weight is dense. */
  readonly fp8Weights?: ReadonlySet<string>;
  /** One FP8 linear weight: data [out, in] and one f32 scale per row (a per-tensor scale
   *  already broadcast). Only for names in fp8Weights. */
  getFp8?(name: string): Promise<Fp8HostWeight>;
  /** Releases the files (or buffers) behind the source. */
  close(): Promise<void>;
}
