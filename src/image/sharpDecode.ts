// JPEG, WebP and GIF through sharp (libvips with libjpeg-turbo/mozjpeg, libwebp, libnsgif).
// Measured to give PIL's 8-bit pixels exactly for baseline and progressive JPEG (4:4:4, 4:2:2,
// 4:2:0, grey, CMYK) and lossy/lossless WebP. Embedded ICC profiles are ignored, as PIL
// ignores them.
import sharp, { type OutputInfo } from 'sharp';
import type { SupportedFormat } from './format.js';
import type { PilPixels } from './pilPixels.js';

/** Thrown when sharp cannot decode; the caller adds the source's name. */
export class SharpDecodeError extends Error {}

export async function sharpSize(bytes: Uint8Array): Promise<{ width: number; height: number; space: string }> {
  try {
    const meta = await sharp(bytes, { limitInputPixels: false, ignoreIcc: true }).metadata();
    return { width: meta.width ?? 0, height: meta.height ?? 0, space: meta.space ?? 'unknown' };
  } catch (err) {
    throw new SharpDecodeError(cleanMessage(err));
  }
}

export async function decodeWithSharp(
  bytes: Uint8Array,
  format: SupportedFormat,
  maxPixels: number,
  cmyk = false,
): Promise<PilPixels> {
  let result: { data: Buffer; info: OutputInfo };
  try {
    let pipeline = sharp(bytes, {
      limitInputPixels: maxPixels,
      ignoreIcc: true,
      failOn: 'warning', // a truncated or corrupt file is an error, as PIL's load() makes it
      sequentialRead: true, // top to bottom in one pass: a little faster for one full decode
      page: 0, // GIF: the first frame, as Image.open gives it
      pages: 1,
    });
    // CMYK stays CMYK (Adobe inversion undone, as PIL's "CMYK;I" does); we convert as PIL does.
    if (cmyk) pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk');
    result = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new SharpDecodeError(cleanMessage(err));
  }
  const { data, info } = result;
  const { width, height, channels } = info;
  const n = width * height;
  const src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (cmyk) {
    if (channels !== 4) throw new SharpDecodeError(`CMYK image decoded to ${channels} channels`);
    return { width, height, channels: 3, data: cmykToRgb(src, n) };
  }
  if (channels === 3) return { width, height, channels: 3, data: src };
  if (channels === 4) return { width, height, channels: 4, data: src };
  if (channels === 1 || channels === 2) {
    const out = new Uint8Array(n * (channels === 1 ? 3 : 4));
    const step = channels === 1 ? 3 : 4;
    for (let i = 0, s = 0, o = 0; i < n; i++, s += channels, o += step) {
      out[o] = out[o + 1] = out[o + 2] = src[s];
      if (channels === 2) out[o + 3] = src[s + 1];
    }
    return { width, height, channels: channels === 1 ? 3 : 4, data: out };
  }
  throw new SharpDecodeError(`${format} decoded to ${channels} channels, which is not supported`);
}

/** PIL's cmyk2rgb: nk = 255 - k; channel = nk - MULDIV255(c, nk). */
function cmykToRgb(src: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0, s = 0, o = 0; i < n; i++, s += 4, o += 3) {
    const nk = 255 - src[s + 3];
    for (let c = 0; c < 3; c++) {
      const t = src[s + c] * nk + 128;
      out[o + c] = nk - (((t >> 8) + t) >> 8);
    }
  }
  return out;
}

function cleanMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}
