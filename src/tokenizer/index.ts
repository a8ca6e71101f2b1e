// The tokenizer layer's public surface.
export { Tekkenizer, TokenIdError } from './tekkenizer.js';
export type { DecodeOptions, EncodeOptions, SpecialTokenPolicy, TekkenizerOptions } from './tekkenizer.js';
export { IncrementalDetokenizer } from './incrementalDetokenizer.js';
export { TekkenFileError, TEKKEN_VERSIONS } from './tekkenFile.js';
export type { TekkenData, TekkenVersion } from './tekkenFile.js';
export type { ImageConfig } from './imageConfig.js';
export type { SpecialTokenInfo } from './specialTokens.js';
export { TEKKEN_PATTERN } from './preSplitPattern.js';
export { DEFAULT_IMAGE_TOKEN_IDS, encodeUserContent, imageTokenIds } from './requestEncoding.js';
export type { ContentChunk, EncodedPrompt, ImageChunk, ImageTokenIds, TextChunk } from './requestEncoding.js';
export { availableToolsJson, ChatFormatError, encodeChat, toolCallsJson, truncateToolCallId } from './chatEncoding.js';
export type { ChatEncodeOptions, ChatMessage, ChatToolCall, ChatToolDefinition } from './chatEncoding.js';
export { validateChat } from './chatValidation.js';
export { dumpPyJson, parsePyJson, PyJsonError, PyNumber, PyObject, tryParsePyJson } from './pyJson.js';
export type { PyValue } from './pyJson.js';
