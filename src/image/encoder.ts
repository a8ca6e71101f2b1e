// mistral_common's ImageEncoder: decode, flatten to RGB over white, size rule, OpenCV cubic
// resize, 1/255 rescale and CLIP normalisation into channel-first float32, and the tokens.
import { cubicResizeRgb, type CubicArithmetic } from './cubicResize.js';
import { decodeToRgb, DEFAULT_MAX_PIXELS, type RgbImage } from './decode.js';
import { ImageError } from './errors.js';
import { imageTokens, tokenGrid, type ImageTokenIds } from './sizeRule.js';
import { loadImageBytes, type ImageSource } from './source.js';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const; // RGB
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const; // RGB

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
}

/** The `image` (older: `multimodal`) block of tekken.json. */
export interface TekkenImageConfig {
  image_patch_size: number;
  max_image_size: number;
  spatial_merge_size?: number;
}

export interface EncodedImage {
  /** `([IMG] * widthTokens + [IMG_BREAK]) * heightTokens`, last one `[IMG_END]`. */
  tokens: number[];
  pixels: Float32Array; // [3, height, width], normalised
  height: number;
  width: number;
  widthTokens: number;
  heightTokens: number;
}

export class ImageEncoder {
  readonly patchSize: number;
  readonly maxImageSize: number;
  readonly spatialMergeSize: number;
  readonly tokenIds: ImageTokenIds;
  readonly maxPixels: number;
  readonly fetchTimeoutMs: number;
  readonly maxFetchBytes: number;
  readonly resizeArithmetic: CubicArithmetic;

  constructor(options: ImageEncoderOptions) {
    for (const key of ['patchSize', 'maxImageSize', 'spatialMergeSize'] as const) {
      const v = options[key];
      if (!Number.isInteger(v) || v <= 0) throw new RangeError(`ImageEncoder: ${key} must be a positive integer, got ${v}`);
    }
    this.patchSize = options.patchSize;
    this.maxImageSize = options.maxImageSize;
    this.spatialMergeSize = options.spatialMergeSize;
    this.tokenIds = {
      imageTokenId: options.imageTokenId ?? 10,
      imageBreakTokenId: options.imageBreakTokenId ?? 12,
      imageEndTokenId: options.imageEndTokenId ?? 13,
    };
    this.maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 30_000;
    this.maxFetchBytes = options.maxFetchBytes ?? 50 * 1024 * 1024;
    this.resizeArithmetic = options.resizeArithmetic ?? 'opencv5';
    if (this.resizeArithmetic !== 'opencv5' && this.resizeArithmetic !== 'opencv4') {
      throw new RangeError(`ImageEncoder: resizeArithmetic must be 'opencv5' or 'opencv4', got ${String(this.resizeArithmetic)}`);
    }
  }

  /** From tekken.json's `image` block; spatial_merge_size defaults to 1 as in mistral_common. */
  static fromTekkenImageConfig(
    config: TekkenImageConfig,
    extra: Omit<ImageEncoderOptions, 'patchSize' | 'maxImageSize' | 'spatialMergeSize'> = {},
  ): ImageEncoder {
    return new ImageEncoder({
      ...extra,
      patchSize: config.image_patch_size,
      maxImageSize: config.max_image_size,
      spatialMergeSize: config.spatial_merge_size ?? 1,
    });
  }

  async encode(source: ImageSource): Promise<EncodedImage> {
    const { bytes, label } = await loadImageBytes(source, {
      fetchTimeoutMs: this.fetchTimeoutMs,
      maxFetchBytes: this.maxFetchBytes,
    });
    const rgb = await decodeToRgb(bytes, label, this.maxPixels);
    return this.encodeRgb(rgb, label);
  }

  /** The steps after decoding, for pixels that are already PIL-equivalent RGB. */
  encodeRgb(rgb: RgbImage, label = '<pixels>'): EncodedImage {
    if (rgb.width <= 0 || rgb.height <= 0) throw new ImageError(label, `image has 0 pixels (${rgb.width}x${rgb.height})`);
    const grid = tokenGrid(rgb.width, rgb.height, this.patchSize, this.maxImageSize, this.spatialMergeSize);
    const { width, height } = grid;
    const plane = width * height;
    const pixels = new Float32Array(3 * plane);
    // mistral_common: float32 / 255.0 stays float32; subtracting the mean tuple promotes to
    // float64; we store the float64 result as float32.
    const m0 = CLIP_MEAN[0], m1 = CLIP_MEAN[1], m2 = CLIP_MEAN[2];
    const s0 = CLIP_STD[0], s1 = CLIP_STD[1], s2 = CLIP_STD[2];
    const fround = Math.fround;
    cubicResizeRgb(rgb.data, rgb.width, rgb.height, width, height, (dy, row) => {
      let o = dy * width;
      for (let i = 0; i < row.length; i += 3, o++) {
        pixels[o] = (fround(row[i] / 255) - m0) / s0;
        pixels[plane + o] = (fround(row[i + 1] / 255) - m1) / s1;
        pixels[2 * plane + o] = (fround(row[i + 2] / 255) - m2) / s2;
      }
    }, this.resizeArithmetic);
    return {
      tokens: imageTokens(grid.widthTokens, grid.heightTokens, this.tokenIds),
      pixels,
      height,
      width,
      widthTokens: grid.widthTokens,
      heightTokens: grid.heightTokens,
    };
  }
}
