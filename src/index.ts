// tramontane: the library entry point. Each layer re-exports its public surface here.
export const VERSION = '0.1.0';
export * from './tokenizer/index.js';
export * from './image/index.js';

// Checkpoints: both on-disk layouts (HF, Mistral) seen as one WeightSource.
export { openCheckpoint } from './model/checkpoint.js';
export type { Checkpoint, CheckpointLayout, OpenCheckpointOptions } from './model/checkpoint.js';
export { CheckpointError } from './model/checkpointError.js';
export { parseHfConfig, parseMistralParams } from './model/configLoader.js';
export { SafetensorsFile } from './model/safetensorsFile.js';
export type { ModelConfig, TextConfig, VisionConfig, ProjectorConfig, WeightDType } from './model/config.js';
export type { HostTensor, WeightSource } from './model/weights.js';
