// Bytes -> PIL-equivalent 8-bit RGB, with the format check, the pixel limit and clear errors.
import { ImageError } from './errors.js';
import { sniffFormat } from './format.js';
import { flattenOverWhite } from './pilPixels.js';
import { fillUncoveredCanvas } from './gifFirstFrame.js';
import { decodePng, pngSize, PngFormatError } from './png.js';
import { decodeWithSharp, sharpSize, SharpDecodeError } from './sharpDecode.js';

/** Decoded 8-bit RGB pixels, row-major, with their size. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array; // [height, width, 3], as mistral_common's np.array(_convert_to_rgb(image))
}

/** PIL's decompression-bomb error threshold (2 * Image.MAX_IMAGE_PIXELS). */
export const DEFAULT_MAX_PIXELS = 178_956_970;

/** The image's size from its header alone (PNG IHDR; JPEG, WebP, GIF through sharp's metadata,
 *  which reads no pixels), refused over `maxPixels`: what a decode would produce, before it runs. */
export async function readImageSize(bytes: Uint8Array, label: string, maxPixels: number): Promise<{ width: number; height: number }> {
  if (bytes.length === 0) throw new ImageError(label, 'is empty (0 bytes)');
  const sniffed = sniffFormat(bytes);
  if ('unknown' in sniffed) throw new ImageError(label, 'is not an image (no PNG, JPEG, WebP or GIF signature)');
  if ('unsupported' in sniffed) {
    throw new ImageError(label, `unsupported image format ${sniffed.unsupported} (supported: PNG, JPEG, WebP, GIF)`);
  }
  const format = sniffed.format;
  try {
    const size = format === 'png' ? pngSize(bytes) : await sharpSize(bytes);
    checkSize(size, label, maxPixels);
    return { width: size.width, height: size.height };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    if (err instanceof PngFormatError || err instanceof SharpDecodeError) {
      throw new ImageError(label, `cannot decode ${format.toUpperCase()}: ${err.message}`);
    }
    throw err;
  }
}

export async function decodeToRgb(bytes: Uint8Array, label: string, maxPixels: number): Promise<RgbImage> {
  if (bytes.length === 0) throw new ImageError(label, 'is empty (0 bytes)');
  const sniffed = sniffFormat(bytes);
  if ('unknown' in sniffed) throw new ImageError(label, 'is not an image (no PNG, JPEG, WebP or GIF signature)');
  if ('unsupported' in sniffed) {
    throw new ImageError(label, `unsupported image format ${sniffed.unsupported} (supported: PNG, JPEG, WebP, GIF)`);
  }
  const format = sniffed.format;
  try {
    if (format === 'png') {
      checkSize(pngSize(bytes), label, maxPixels);
      const pixels = decodePng(bytes, maxPixels);
      return { width: pixels.width, height: pixels.height, data: flattenOverWhite(pixels) };
    }
    const size = await sharpSize(bytes);
    checkSize(size, label, maxPixels);
    const pixels = await decodeWithSharp(bytes, format, maxPixels, size.space === 'cmyk');
    if (format === 'gif') fillUncoveredCanvas(pixels, bytes);
    return { width: pixels.width, height: pixels.height, data: flattenOverWhite(pixels) };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    if (err instanceof PngFormatError || err instanceof SharpDecodeError) {
      throw new ImageError(label, `cannot decode ${format.toUpperCase()}: ${err.message}`);
    }
    throw err;
  }
}

function checkSize(size: { width: number; height: number }, label: string, maxPixels: number): void {
  const { width, height } = size;
  if (width === 0 || height === 0) throw new ImageError(label, `image has 0 pixels (${width}x${height})`);
  if (width * height > maxPixels) {
    throw new ImageError(
      label,
      `image is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels} (maxPixels)`,
    );
  }
}
