// tramontane: the library entry point. Each layer re-exports its public surface here.
export const VERSION = '0.1.0';
export * from './tokenizer/index.js';
export * from './image/index.js';
// Both layers name their [IMG]/[IMG_BREAK]/[IMG_END] id triple ImageTokenIds; the tokenizer's wins.
export type { ImageTokenIds } from './tokenizer/index.js';

// Checkpoints: both on-disk layouts (HF, Mistral) seen as one WeightSource.
export { openCheckpoint } from './model/checkpoint.js';
export type { Checkpoint, CheckpointLayout, OpenCheckpointOptions } from './model/checkpoint.js';
export { CheckpointError } from './model/checkpointError.js';
export { parseHfConfig, parseMistralParams } from './model/configLoader.js';
export { SafetensorsFile } from './model/safetensorsFile.js';
export type { ModelConfig, TextConfig, VisionConfig, ProjectorConfig, WeightDType } from './model/config.js';
export type { HostTensor, WeightSource } from './model/weights.js';

// Model sources: checkpoint directories, built-in configs, seeded dummy weights (--load-format dummy).
export { openModelSource, LOAD_FORMATS, EMBEDDED_MODEL_DIR } from './model/modelSource.js';
export type { LoadFormat, ModelSource, ModelSourceOptions } from './model/modelSource.js';
export { BUILTIN_CONFIG_NAMES, loadBuiltinConfig, builtinConfigDir } from './model/builtinConfigs.js';
export { DummyWeightSource, dummyFillSpec, dummyTensorKey } from './model/dummyWeights.js';
export type { DummyFillSpec, DummyWeightOptions } from './model/dummyWeights.js';
