// mistral_common's ImageEncoder: decode, flatten to RGB over white, size rule, OpenCV cubic
// resize, 1/255 rescale and CLIP normalisation into channel-first float32, and the tokens.
import type { CubicArithmetic } from './cubicResize.js';
import { decodeToRgb, DEFAULT_MAX_PIXELS, readImageSize, type RgbImage } from './decode.js';
import { decodeInWorker } from './decodePool.js';
import type { DecodeJobOptions } from './decodeMessages.js';
import type { RequestImageBudget } from './pixelBudget.js';
import { ImageError } from './errors.js';
import { tokenGrid } from './sizeRule.js';
import { imageTokenIds, type ImageTokenIds } from '../tokenizer/requestEncoding.js';
import { loadImageBytes, type ImageSource, type MediaPolicy } from './source.js';
import { resizeNormalizeRows, type ResizeJob } from './normalize.js';
import { defaultResizeThreads, resizeNormalize } from './resizePool.js';

export { CLIP_MEAN, CLIP_STD } from './normalize.js';

/** Options of the image encoder: patch size, largest side, merge size, image token ids, pixel and fetch limits. */
export interface ImageEncoderOptions {
  patchSize: number;
  maxImageSize: number;
  spatialMergeSize: number;
  imageTokenId?: number;
  imageBreakTokenId?: number;
  imageEndTokenId?: number;
  /** Decoded images above this many pixels are refused (decompression bombs). */
  maxPixels?: number;
  fetchTimeoutMs?: number;
  maxFetchBytes?: number;
  /** Follow OpenCV 5 (default; what a fresh `pip install mistral-common[opencv]` gets) or 4.x. */
  resizeArithmetic?: CubicArithmetic;
  /** Threads for the resize of a large image in encode(), the caller's included (default: cores, at most 4). */
  resizeThreads?: number;
}

/** The `image` (older: `multimodal`) block of tekken.json. */
export interface TekkenImageConfig {
  image_patch_size: number;
  max_image_size: number;
  spatial_merge_size?: number;
}

/** The `vision_encoder` block of a Mistral-format params.json. */
export interface ParamsVisionEncoder {
  patch_size: number;
  image_size: number;
  max_image_size?: number;
  spatial_merge_size?: number;
  image_token_id?: number;
  image_break_token_id?: number;
  image_end_token_id?: number;
}

/** The slice of the model's ModelConfig the encoder needs (structural: no import of model/). */
export interface ModelImageConfig {
  vision: { patchSize: number; imageSize: number } | null;
  projector: { spatialMergeSize: number } | null;
  imageTokenId: number;
  imageBreakTokenId: number;
  imageEndTokenId: number;
}

/** How one image of a request is loaded (the server's; the offline API passes none). */
export interface EncodeOptions {
  /** What may be fetched or read (default: TRUSTED_POLICY, anything). */
  readonly policy?: MediaPolicy;
  /** Cancels the fetch and the wait for decode capacity (the client went away). */
  readonly signal?: AbortSignal;
  /** The request's token and pixel budget, checked from the header before decoding. */
  readonly budget?: RequestImageBudget;
  /** Decode and resize in a worker thread, leaving the event loop free. */
  readonly offThread?: boolean;
}

type ExtraOptions = Omit<ImageEncoderOptions, 'patchSize' | 'maxImageSize' | 'spatialMergeSize'>;

/** An encoded image: its token ids, normalised pixels [3, height, width] and its size in pixels and tokens. */
export interface EncodedImage {
  /** `([IMG] * widthTokens + [IMG_BREAK]) * heightTokens`, last one `[IMG_END]`. */
  tokens: number[];
  pixels: Float32Array; // [3, height, width], normalised
  height: number;
  width: number;
  widthTokens: number;
  heightTokens: number;
}

/** Turns an image into the model's pixels and image tokens, as mistral_common's image encoder. */
export class ImageEncoder {
  readonly patchSize: number;
  readonly maxImageSize: number;
  readonly spatialMergeSize: number;
  readonly tokenIds: ImageTokenIds;
  readonly maxPixels: number;
  readonly fetchTimeoutMs: number;
  readonly maxFetchBytes: number;
  readonly resizeArithmetic: CubicArithmetic;
  readonly resizeThreads: number;

  constructor(options: ImageEncoderOptions) {
    for (const key of ['patchSize', 'maxImageSize', 'spatialMergeSize'] as const) {
      const v = options[key];
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`ImageEncoder: ${key} must be a positive integer, got ${v}`);
    }
    this.patchSize = options.patchSize;
    this.maxImageSize = options.maxImageSize;
    this.spatialMergeSize = options.spatialMergeSize;
    this.tokenIds = {
      img: options.imageTokenId ?? 10,
      imgBreak: options.imageBreakTokenId ?? 12,
      imgEnd: options.imageEndTokenId ?? 13,
    };
    this.maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 30_000;
    this.maxFetchBytes = options.maxFetchBytes ?? 50 * 1024 * 1024;
    for (const key of ['maxPixels', 'fetchTimeoutMs', 'maxFetchBytes'] as const) {
      const v = this[key];
      if (!Number.isFinite(v) || v <= 0) throw new RangeError(`ImageEncoder: ${key} must be a positive number, got ${v}`);
    }
    this.resizeArithmetic = options.resizeArithmetic ?? 'opencv5';
    this.resizeThreads = options.resizeThreads ?? defaultResizeThreads();
    if (!Number.isInteger(this.resizeThreads) || this.resizeThreads < 1) {
      throw new RangeError(`ImageEncoder: resizeThreads must be a positive integer, got ${this.resizeThreads}`);
    }
    if (this.resizeArithmetic !== 'opencv5' && this.resizeArithmetic !== 'opencv4') {
      throw new RangeError(`ImageEncoder: resizeArithmetic must be 'opencv5' or 'opencv4', got ${String(this.resizeArithmetic)}`);
    }
  }

  /** From tekken.json's `image` block; spatial_merge_size defaults to 1 as in mistral_common. */
  static fromTekkenImageConfig(config: TekkenImageConfig, extra: ExtraOptions = {}): ImageEncoder {
    return new ImageEncoder({
      ...extra,
      patchSize: config.image_patch_size,
      maxImageSize: config.max_image_size,
      spatialMergeSize: config.spatial_merge_size ?? 1,
    });
  }

  /** From params.json's `vision_encoder` block (max_image_size falls back to image_size). */
  static fromParamsVisionEncoder(block: ParamsVisionEncoder, extra: ExtraOptions = {}): ImageEncoder {
    return new ImageEncoder({
      imageTokenId: block.image_token_id,
      imageBreakTokenId: block.image_break_token_id,
      imageEndTokenId: block.image_end_token_id,
      ...extra,
      patchSize: block.patch_size,
      maxImageSize: block.max_image_size ?? block.image_size,
      spatialMergeSize: block.spatial_merge_size ?? 1,
    });
  }

  /** From the model's normalised config; throws for a text-only model. */
  static fromModelConfig(config: ModelImageConfig, extra: ExtraOptions = {}): ImageEncoder {
    if (!config.vision) throw new RangeError('ImageEncoder: the model has no vision encoder (text-only checkpoint)');
    return new ImageEncoder({
      imageTokenId: config.imageTokenId,
      imageBreakTokenId: config.imageBreakTokenId,
      imageEndTokenId: config.imageEndTokenId,
      ...extra,
      patchSize: config.vision.patchSize,
      maxImageSize: config.vision.imageSize,
      spatialMergeSize: config.projector?.spatialMergeSize ?? 1,
    });
  }

  /** Loads, decodes, resizes and normalises an image, and lays out its image tokens. */
  async encode(source: ImageSource, options: EncodeOptions = {}): Promise<EncodedImage> {
    const limits = { fetchTimeoutMs: this.fetchTimeoutMs, maxFetchBytes: this.maxFetchBytes };
    const { bytes, label } = await loadImageBytes(source, limits, options.policy, options.signal);
    if (options.budget || options.offThread) {
      // The size in pixels and tokens from the header: refuse before decoding a byte of pixels.
      const { width, height } = await readImageSize(bytes, label, this.maxPixels);
      const grid = tokenGrid(width, height, this.patchSize, this.maxImageSize, this.spatialMergeSize);
      const release = options.budget ? await options.budget.reserve(label, width, height, (grid.widthTokens + 1) * grid.heightTokens, options.signal) : () => undefined;
      try {
        return await (options.offThread ? decodeInWorker(bytes, label, this.workerOptions()) : this.decodeHere(bytes, label));
      } finally {
        release();
      }
    }
    return this.decodeHere(bytes, label);
  }

  private async decodeHere(bytes: Uint8Array, label: string): Promise<EncodedImage> {
    const rgb = await decodeToRgb(bytes, label, this.maxPixels);
    const { job, result } = this.plan(rgb, label);
    result.pixels = await resizeNormalize(job, this.resizeThreads);
    return result;
  }

  /** What a decode worker needs to build the same encoder. */
  private workerOptions(): DecodeJobOptions {
    return {
      patchSize: this.patchSize,
      maxImageSize: this.maxImageSize,
      spatialMergeSize: this.spatialMergeSize,
      imageTokenId: this.tokenIds.img,
      imageBreakTokenId: this.tokenIds.imgBreak,
      imageEndTokenId: this.tokenIds.imgEnd,
      maxPixels: this.maxPixels,
      resizeArithmetic: this.resizeArithmetic,
    };
  }

  /** The steps after decoding, on the calling thread, for pixels already PIL-equivalent RGB. */
  encodeRgb(rgb: RgbImage, label = '<pixels>'): EncodedImage {
    const { job, result } = this.plan(rgb, label);
    resizeNormalizeRows(job, result.pixels, 0, job.dstHeight);
    return result;
  }

  private plan(rgb: RgbImage, label: string): { job: ResizeJob; result: EncodedImage } {
    if (rgb.width <= 0 || rgb.height <= 0) throw new ImageError(label, `image has 0 pixels (${rgb.width}x${rgb.height})`);
    if (rgb.data.length !== rgb.width * rgb.height * 3) {
      throw new ImageError(label, `RGB data holds ${rgb.data.length} bytes, expected ${rgb.width}x${rgb.height}x3`);
    }
    const grid = tokenGrid(rgb.width, rgb.height, this.patchSize, this.maxImageSize, this.spatialMergeSize);
    const job: ResizeJob = {
      src: rgb.data,
      srcWidth: rgb.width,
      srcHeight: rgb.height,
      dstWidth: grid.width,
      dstHeight: grid.height,
      arithmetic: this.resizeArithmetic,
    };
    const result: EncodedImage = {
      tokens: imageTokenIds(grid.widthTokens, grid.heightTokens, this.tokenIds),
      pixels: new Float32Array(3 * grid.width * grid.height),
      height: grid.height,
      width: grid.width,
      widthTokens: grid.widthTokens,
      heightTokens: grid.heightTokens,
    };
    return { job, result };
  }
}
