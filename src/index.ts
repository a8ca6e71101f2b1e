// tramontane: the library entry point. Each layer re-exports its public surface here.
export { VERSION } from './version.js';
export { LLM } from './engine/llm.js';
export type { LLMTokenizer, UserContentChunk, GenerateOptions as LLMGenerateOptions } from './engine/llm.js';
export type { LLMComponents } from './engine/loadModel.js';
export type { ChatTurn, ChatEncoder, ChatContentPart, PrepareChatOptions } from './engine/chatPort.js';
export type { ChatOptions, ChatOutput, ChatRequestOutput, ChatCompletionOutput, OpenAIChatMessage, OpenAIContentPart, OpenAITool, OpenAIToolCall } from './engine/llmChat.js';
export { planTools, toolCallsSchema, newToolCallId } from './engine/toolChoice.js';
export type { ToolCall, ToolChoice, ToolPlan } from './engine/toolChoice.js';
export { ToolCallStreamParser, parseToolCalls } from './engine/toolCallParser.js';
export type { ParsedToolCall, ToolCallEvent } from './engine/toolCallParser.js';
export type { StructuredOutputsParams } from './engine/structured/params.js';
export { resolveSamplingParams, DEFAULT_SAMPLING_PARAMS } from './engine/samplingParams.js';
export type { SamplingParams, SamplingParamsInput } from './engine/samplingParams.js';
export type { RequestOutput, CompletionOutput, TokenLogprob, PositionLogprobs } from './engine/outputs.js';
export type { PromptInput, TokensPrompt, TextPrompt, PreparedImage, ImageSource } from './engine/promptInput.js';
export { InvalidRequestError, EngineClosedError } from './engine/errors.js';
export { Engine } from './engine/engine.js';
export { createServer } from './server/app.js';
export * from './tokenizer/index.js';
export * from './image/index.js';

// Checkpoints: both on-disk layouts (HF, Mistral) seen as one WeightSource.
export { openCheckpoint } from './model/checkpoint.js';
export type { Checkpoint, CheckpointLayout, OpenCheckpointOptions } from './model/checkpoint.js';
export { CheckpointError } from './model/checkpointError.js';
export { parseHfConfig, parseMistralParams } from './model/configLoader.js';
export { SafetensorsFile } from './model/safetensorsFile.js';
export type { ModelConfig, TextConfig, VisionConfig, ProjectorConfig, WeightDType } from './model/config.js';
export type { HostTensor, WeightSource, Fp8HostWeight } from './model/weights.js';
export type { Fp8Quantization, Fp8Scheme, Fp8Group } from './model/quantization.js';

// Backends: the interface the model runs on, and the CPU reference implementation.
export type {
  AttentionMetadata, Backend, DeviceMemoryInfo, DeviceTensor, DType, ImageSpans, PagedAttentionArgs,
  SampleRequest, ScoreRequest, VisionAttentionArgs, LinearWeight, LinearQuantization,
} from './backend/backend.js';
export { CpuBackend, createCpuBackend } from './backend/cpu/cpuBackend.js';
export type { CpuBackendOptions } from './backend/cpu/cpuBackend.js';
export { sampleRow } from './backend/sampling/sampleRow.js';
export { tokenLogprobs } from './backend/sampling/rowLogprobs.js';
// CUDA (one NVIDIA GPU): loaded on demand by createCudaBackend.
export { createCudaBackend } from './backend/cuda/createCudaBackend.js';
export type { CudaBackend, CudaBackendOptions } from './backend/cuda/cudaBackend.js';
export { CudaError, CudaUnavailableError, KernelCompileError } from './backend/cuda/ffi/errors.js';

// The network on a backend: the ModelRunner (generation goes through LLM / Engine).
export { createRunner, KV_BLOCK_SIZE } from './model/modelRunner.js';
export type { CreateRunnerOptions } from './model/modelRunner.js';
export type { EncoderImage } from './model/imagePatches.js';

// Model sources: checkpoint directories, built-in configs, seeded dummy weights (--load-format dummy).
export { openModelSource, LOAD_FORMATS, QUANTIZATIONS, EMBEDDED_MODEL_DIR } from './model/modelSource.js';
export type { LoadFormat, ModelSource, ModelSourceOptions, Quantization } from './model/modelSource.js';
export { loadModelRunner } from './model/loadModelRunner.js';
export type { LoadProgress, LoadProgressListener } from './model/loadProgress.js';
export { envSwitches, openRunner, runnerSizes } from './engine/composition.js';
export type { EnvSwitches, OpenedRunner, RunnerSizes, RunnerSpec } from './engine/composition.js';
export type { LoadModelRunnerOptions, LoadedModelRunner } from './model/loadModelRunner.js';
export { createDeviceBackend, defaultDevice, DEVICES, BackendUnavailableError } from './backend/deviceBackend.js';
export { BUILTIN_CONFIG_NAMES, loadBuiltinConfig, builtinConfigDir } from './model/builtinConfigs.js';
export { DummyWeightSource, dummyFillSpec, dummyTensorKey } from './model/dummyWeights.js';
export type { DummyFillSpec, DummyWeightOptions } from './model/dummyWeights.js';
