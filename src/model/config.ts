// One typed, normalised model configuration, read from either HF config.json or Mistral
// params.json (see src/model/configLoader.ts). Each component takes only its own slice.

import type { WeightDType } from '../backend/hostTensor.js';
import type { Fp8Quantization } from './quantization.js';

export type { WeightDType };

/** The text decoder's hyperparameters (sizes, heads, RoPE, vocabulary). */
export interface TextConfig {
  readonly hiddenSize: number; // 5120
  readonly intermediateSize: number; // 32768
  readonly numLayers: number; // 40
  readonly numHeads: number; // 32 query heads
  readonly numKvHeads: number; // 8
  readonly headDim: number; // 128 (not necessarily hiddenSize / numHeads)
  readonly rmsNormEps: number; // 1e-5
  readonly ropeTheta: number; // 1e9
  readonly maxPositionEmbeddings: number; // 131072
  readonly vocabSize: number; // 131072
  /** The output projection is the embedding table (HF tie_word_embeddings, Mistral
   *  tied_embeddings): the checkpoint holds no output tensor. Absent: untied. */
  readonly tiedEmbeddings?: boolean;
}

/** The vision encoder's hyperparameters (Pixtral: sizes, patch size, RoPE). */
export interface VisionConfig {
  readonly hiddenSize: number; // 1024
  readonly intermediateSize: number; // 4096
  readonly numLayers: number; // 24
  readonly numHeads: number; // 16
  readonly headDim: number; // 64
  readonly patchSize: number; // 14
  readonly imageSize: number; // 1540 (largest side in pixels)
  readonly numChannels: number; // 3
  readonly ropeTheta: number; // 1e4
  readonly rmsNormEps: number; // 1e-5
  readonly hiddenAct: 'silu' | 'gelu';
}

/** The multimodal projector's settings (patch merging, activation). */
export interface ProjectorConfig {
  readonly spatialMergeSize: number; // 2
  /** RMSNorm over vision features before the patch merger (true for Mistral Small 3.1). */
  readonly hasPreNorm: boolean;
  readonly hiddenAct: 'gelu'; // exact erf GELU between linear_1 and linear_2
}

/** A model's architecture: text decoder, vision encoder and projector configs. */
export interface ModelConfig {
  readonly text: TextConfig;
  /** null for a text-only checkpoint. */
  readonly vision: VisionConfig | null;
  readonly projector: ProjectorConfig | null;
  readonly imageTokenId: number; // 10
  readonly imageBreakTokenId: number; // 12
  readonly imageEndTokenId: number; // 13
  /** dtype the checkpoint stores its weights in. */
  readonly dtype: WeightDType;
  /** Which on-disk layout the config came from. */
  readonly format: 'hf' | 'mistral';
  /** The checkpoint stores (some) linear weights as FP8 (src/model/quantization.ts); absent:
   *  every weight is in `dtype`. `dtype` stays the dense weights' (the embeddings'). */
  readonly quantization?: Fp8Quantization;
}
