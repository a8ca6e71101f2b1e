// tramontane: the library entry point. Each layer re-exports its public surface here.
export const VERSION = '0.1.0';
export * from './tokenizer/index.js';
export * from './image/index.js';
// Both layers name their [IMG]/[IMG_BREAK]/[IMG_END] id triple ImageTokenIds; the tokenizer's wins.
export type { ImageTokenIds } from './tokenizer/index.js';
