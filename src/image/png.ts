// A PNG decoder that yields what PIL yields: the same mode choices and 8-bit conversions
// (16-bit RGB(A) keeps the high byte; 16-bit grey clamps to 255 as PIL's I;16 -> RGB does;
// 1/2/4-bit grey scales to 0..255; palette transparency becomes alpha; a tRNS colour on an
// RGB image is ignored because mistral_common returns RGB images untouched).
import { crc32, inflateSync } from 'node:zlib';
import type { PilPixels } from './pilPixels.js';

export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

interface Header {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
  interlace: number;
}

/** Thrown for a malformed PNG; the caller adds the source's name. */
export class PngFormatError extends Error {}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** Reads the IHDR only: width and height, to check limits before decoding. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  if (bytes.length < 33) throw new PngFormatError('truncated PNG: no complete IHDR chunk');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(12) !== 0x49484452) throw new PngFormatError('PNG does not start with an IHDR chunk');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

export function decodePng(bytes: Uint8Array, maxPixels: number): PilPixels {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | undefined;
  let palette: Uint8Array | undefined;
  let transparency: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let pos = 8;
  while (pos < bytes.length) {
    if (pos + 12 > bytes.length) throw new PngFormatError(`truncated PNG: chunk header cut at byte ${pos}`);
    const length = view.getUint32(pos);
    const type = String.fromCharCode(bytes[pos + 4], bytes[pos + 5], bytes[pos + 6], bytes[pos + 7]);
    const end = pos + 12 + length;
    if (end > bytes.length) throw new PngFormatError(`truncated PNG: chunk ${type} runs past the end of the data`);
    const body = bytes.subarray(pos + 8, pos + 8 + length);
    const crc = view.getUint32(pos + 8 + length);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== crc) {
      throw new PngFormatError(`broken PNG: bad CRC in chunk ${type}`);
    }
    if (type === 'IHDR') {
      header = readHeader(body, maxPixels);
    } else if (type === 'PLTE') {
      palette = body;
    } else if (type === 'tRNS') {
      transparency = body;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    pos = end;
  }
  if (!header) throw new PngFormatError('PNG has no IHDR chunk');
  if (idat.length === 0) throw new PngFormatError('truncated PNG: no image data (IDAT)');
  if (header.colorType === 3 && !palette) throw new PngFormatError('palette PNG without a PLTE chunk');
  const raw = inflateAll(idat, header);
  const samples = header.interlace ? deinterlace(raw, header) : unfilter(raw, header, header.width, header.height);
  return toPil(samples, header, palette, transparency);
}

function readHeader(body: Uint8Array, maxPixels: number): Header {
  if (body.length !== 13) throw new PngFormatError('PNG IHDR chunk has the wrong length');
  const v = new DataView(body.buffer, body.byteOffset, 13);
  const h: Header = {
    width: v.getUint32(0),
    height: v.getUint32(4),
    bitDepth: body[8],
    colorType: body[9],
    interlace: body[12],
  };
  if (h.width === 0 || h.height === 0) throw new PngFormatError(`image has 0 pixels (${h.width}x${h.height})`);
  if (h.width * h.height > maxPixels) {
    throw new PngFormatError(`image is ${h.width}x${h.height} = ${h.width * h.height} pixels, over the limit of ${maxPixels}`);
  }
  if (!(h.colorType in CHANNELS) || !DEPTHS[h.colorType].includes(h.bitDepth)) {
    throw new PngFormatError(`PNG colour type ${h.colorType} with bit depth ${h.bitDepth} is not valid`);
  }
  if (h.interlace > 1) throw new PngFormatError(`PNG interlace method ${h.interlace} is not valid`);
  return h;
}

function bitsPerPixel(h: Header): number {
  return CHANNELS[h.colorType] * h.bitDepth;
}

function rawSize(h: Header, width: number, height: number): number {
  if (width === 0 || height === 0) return 0;
  return (Math.ceil((width * bitsPerPixel(h)) / 8) + 1) * height;
}

const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
]; // [x0, y0, dx, dy]

function passSize(h: Header, p: number[]): [number, number] {
  const [x0, y0, dx, dy] = p;
  return [Math.ceil((h.width - x0) / dx), Math.ceil((h.height - y0) / dy)];
}

function inflateAll(idat: Uint8Array[], h: Header): Uint8Array {
  let expected = 0;
  if (h.interlace) for (const p of ADAM7) expected += rawSize(h, ...passSize(h, p));
  else expected = rawSize(h, h.width, h.height);
  const raw = inflateUpTo(Buffer.concat(idat), expected);
  if (raw.length < expected) {
    throw new PngFormatError(`truncated PNG: image data holds ${raw.length} of ${expected} bytes`);
  }
  return raw.subarray(0, expected);
}

const Z_SYNC_FLUSH = 2;
/** Slack over the image size when inflating a prefix: one compressed byte yields at most a few
 *  KiB (258-byte matches), so a prefix that reaches the image size stays within it. */
const PREFIX_SLACK = 1 << 16;

function inflate(data: Uint8Array, maxOutputLength: number): Buffer | 'overflow' {
  try {
    return inflateSync(data, { maxOutputLength, finishFlush: Z_SYNC_FLUSH });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/maxOutputLength|buffer/i.test(msg)) return 'overflow';
    throw new PngFormatError(`corrupt PNG image data (${msg})`);
  }
}

/** At least `limit` bytes of the zlib stream when it has them (fewer when it is truncated).
 *  Data past the image is ignored, as PIL's decoder stops once the image is full: when the
 *  whole stream inflates to more, the shortest prefix of it that reaches `limit` is used. */
function inflateUpTo(data: Uint8Array, limit: number): Buffer {
  const whole = inflate(data, limit + 1);
  if (whole !== 'overflow') return whole;
  let lo = 0; // inflate(data[0, lo)) < limit bytes
  let hi = data.length; // inflate(data[0, hi)) >= limit bytes
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    const out = inflate(data.subarray(0, mid), limit + PREFIX_SLACK);
    if (out === 'overflow' || out.length >= limit) hi = mid;
    else lo = mid;
  }
  const out = inflate(data.subarray(0, hi), limit + PREFIX_SLACK);
  if (out === 'overflow') throw new PngFormatError('PNG image data could not be cut at the image size');
  return out;
}

/** Undoes the per-row filters; returns packed rows without filter bytes. */
function unfilter(raw: Uint8Array, h: Header, width: number, height: number, offset = 0): Uint8Array {
  const bpp = Math.max(1, bitsPerPixel(h) >> 3);
  const stride = Math.ceil((width * bitsPerPixel(h)) / 8);
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[offset + y * (stride + 1)];
    const src = offset + y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    switch (filter) {
      case 0:
        out.set(raw.subarray(src, src + stride), row);
        break;
      case 1:
        for (let i = 0; i < stride; i++) out[row + i] = raw[src + i] + (i >= bpp ? out[row + i - bpp] : 0);
        break;
      case 2:
        for (let i = 0; i < stride; i++) out[row + i] = raw[src + i] + (y > 0 ? out[prev + i] : 0);
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? out[row + i - bpp] : 0;
          const up = y > 0 ? out[prev + i] : 0;
          out[row + i] = raw[src + i] + ((left + up) >> 1);
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? out[row + i - bpp] : 0;
          const b = y > 0 ? out[prev + i] : 0;
          const c = i >= bpp && y > 0 ? out[prev + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          out[row + i] = raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        throw new PngFormatError(`corrupt PNG: unknown row filter ${filter} in row ${y}`);
    }
  }
  return out;
}

/** Adam7: unfilters each pass and scatters its pixels into one packed full-size image. */
function deinterlace(raw: Uint8Array, h: Header): Uint8Array {
  const bits = bitsPerPixel(h);
  const stride = Math.ceil((h.width * bits) / 8);
  const out = new Uint8Array(stride * h.height);
  let offset = 0;
  for (const p of ADAM7) {
    const [pw, ph] = passSize(h, p);
    if (pw === 0 || ph === 0) continue;
    const pass = unfilter(raw, h, pw, ph, offset);
    offset += rawSize(h, pw, ph);
    const passStride = Math.ceil((pw * bits) / 8);
    for (let y = 0; y < ph; y++) {
      const oy = p[1] + y * p[3];
      for (let x = 0; x < pw; x++) {
        const ox = p[0] + x * p[2];
        if (bits >= 8) {
          const n = bits >> 3;
          out.set(pass.subarray(y * passStride + x * n, y * passStride + x * n + n), oy * stride + ox * n);
        } else {
          const v = (pass[y * passStride + ((x * bits) >> 3)] >> (8 - bits - ((x * bits) & 7))) & ((1 << bits) - 1);
          out[oy * stride + ((ox * bits) >> 3)] |= v << (8 - bits - ((ox * bits) & 7));
        }
      }
    }
  }
  return out;
}

/** Packed samples -> PIL's 8-bit RGB or RGBA for this PNG's mode. */
function toPil(s: Uint8Array, h: Header, palette: Uint8Array | undefined, trns: Uint8Array | undefined): PilPixels {
  const { width, height, bitDepth, colorType } = h;
  const n = width * height;
  const stride = Math.ceil((width * bitsPerPixel(h)) / 8);
  const sixteen = bitDepth === 16;
  if (colorType === 2 || colorType === 6) {
    const channels = colorType === 2 ? 3 : 4;
    if (!sixteen) return { width, height, channels, data: s };
    const data = new Uint8Array(n * channels);
    for (let i = 0; i < data.length; i++) data[i] = s[i * 2]; // PIL's RGB;16B keeps the high byte
    return { width, height, channels, data };
  }
  if (colorType === 4) {
    // PIL opens 8-bit grey+alpha as LA and 16-bit as RGBA through "LA;16B" (high bytes).
    const data = new Uint8Array(n * 4);
    const step = sixteen ? 4 : 2;
    const alphaAt = sixteen ? 2 : 1;
    for (let i = 0; i < n; i++) {
      const g = s[i * step];
      data[i * 4] = g;
      data[i * 4 + 1] = g;
      data[i * 4 + 2] = g;
      data[i * 4 + 3] = s[i * step + alphaAt];
    }
    return { width, height, channels: 4, data };
  }
  // One sample per pixel: grey or palette index.
  const sample = (x: number, y: number): number => {
    const row = y * stride;
    if (bitDepth === 8) return s[row + x];
    if (bitDepth === 16) return (s[row + x * 2] << 8) | s[row + x * 2 + 1];
    const bit = x * bitDepth;
    return (s[row + (bit >> 3)] >> (8 - bitDepth - (bit & 7))) & ((1 << bitDepth) - 1);
  };
  if (colorType === 3) {
    const pal = palette as Uint8Array;
    const entries = Math.floor(pal.length / 3);
    const hasAlpha = trns !== undefined && trns.length > 0;
    const channels = hasAlpha ? 4 : 3;
    const data = new Uint8Array(n * channels);
    for (let y = 0, o = 0; y < height; y++) {
      for (let x = 0; x < width; x++, o += channels) {
        const i = sample(x, y);
        // PIL's palette starts as a grey ramp; entries past PLTE keep (i, i, i).
        data[o] = i < entries ? pal[i * 3] : i;
        data[o + 1] = i < entries ? pal[i * 3 + 1] : i;
        data[o + 2] = i < entries ? pal[i * 3 + 2] : i;
        if (hasAlpha) data[o + 3] = i < trns.length ? trns[i] : 255;
      }
    }
    return { width, height, channels, data };
  }
  // Grey. PIL: 1-bit -> 0/255, 2-bit * 0x55, 4-bit * 0x11, 16-bit clamps to 255 (I;16 -> RGB).
  const scale = bitDepth === 1 ? 255 : bitDepth === 2 ? 0x55 : bitDepth === 4 ? 0x11 : 1;
  // PIL keeps the raw tRNS sample value and compares it with the converted 8-bit value.
  const transparent = trns !== undefined && trns.length >= 2 ? (trns[0] << 8) | trns[1] : -1;
  const channels = transparent >= 0 ? 4 : 3;
  const data = new Uint8Array(n * channels);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++, o += channels) {
      const raw = sample(x, y);
      const g = sixteen ? (raw > 255 ? 255 : raw) : raw * scale;
      data[o] = g;
      data[o + 1] = g;
      data[o + 2] = g;
      if (channels === 4) data[o + 3] = g === transparent ? 0 : 255;
    }
  }
  return { width, height, channels, data };
}
