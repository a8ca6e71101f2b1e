// What PIL hands mistral_common after `Image.open` and its RGB flattening, as 8-bit pixels.

/** 8-bit pixels in PIL mode "RGB" (3 channels) or "RGBA" (4 channels), row-major. */
export interface PilPixels {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array; // [height, width, channels]
}

/** PIL's MULDIV255: a * b / 255 rounded the way its paste code does, for a, b in 0..255. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/**
 * mistral_common's `_convert_to_rgb`: RGB stays as it is; RGBA is pasted onto a white canvas
 * through its own alpha (PIL's BLEND: 255*(255-a)/255 + c*a/255 with MULDIV255 rounding),
 * then the alpha is dropped. Returns interleaved RGB [height, width, 3].
 */
export function flattenOverWhite(pixels: PilPixels): Uint8Array {
  if (pixels.channels === 3) return pixels.data;
  const n = pixels.width * pixels.height;
  const src = pixels.data;
  const out = new Uint8Array(n * 3);
  // Lookup: blend[a * 256 + c] = MULDIV255(255, 255 - a) + MULDIV255(c, a).
  const blend = blendTable();
  for (let i = 0, s = 0, o = 0; i < n; i++, s += 4, o += 3) {
    const row = src[s + 3] << 8;
    out[o] = blend[row | src[s]];
    out[o + 1] = blend[row | src[s + 1]];
    out[o + 2] = blend[row | src[s + 2]];
  }
  return out;
}

let cachedBlend: Uint8Array | undefined;
function blendTable(): Uint8Array {
  if (cachedBlend) return cachedBlend;
  const table = new Uint8Array(256 * 256);
  for (let a = 0; a < 256; a++) {
    const bg = mulDiv255(255, 255 - a);
    for (let c = 0; c < 256; c++) table[(a << 8) | c] = bg + mulDiv255(c, a);
  }
  cachedBlend = table;
  return table;
}
