// What crosses to and from an image decode worker (decodePool.ts <-> decodeWorker.ts): plain
// data, structured-cloned; the pixels come back transferred.
import type { CubicArithmetic } from './cubicResize.js';

/** What a worker needs to build the same encoder as the caller's. */
export interface DecodeJobOptions {
  readonly patchSize: number;
  readonly maxImageSize: number;
  readonly spatialMergeSize: number;
  readonly imageTokenId: number;
  readonly imageBreakTokenId: number;
  readonly imageEndTokenId: number;
  readonly maxPixels: number;
  readonly resizeArithmetic: CubicArithmetic;
}

/** An encoded image (as ImageEncoder.encode returns it). */
export interface DecodedImage {
  tokens: number[];
  pixels: Float32Array; // [3, height, width], normalised
  height: number;
  width: number;
  widthTokens: number;
  heightTokens: number;
}

export interface DecodeRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly label: string;
  readonly options: DecodeJobOptions;
}

export type DecodeReply =
  | ({ readonly id: number; readonly ok: true } & DecodedImage)
  | { readonly id: number; readonly ok: false; readonly imageError: boolean; readonly source: string; readonly message: string };
