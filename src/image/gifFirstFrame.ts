// PIL's canvas for a GIF's first frame where the frame does not cover it: without a
// transparent index, Pillow starts from a zeroed image, so the uncovered pixels are palette
// entry 0 (libnsgif leaves them black); with one, they are transparent in both.
import type { PilPixels } from './pilPixels.js';

interface FirstFrame {
  canvasWidth: number;
  canvasHeight: number;
  left: number;
  top: number;
  width: number;
  height: number;
  transparent: boolean;
  /** RGB of palette entry 0 of the palette the frame uses (local, else global), else black. */
  entry0: [number, number, number];
}

/** Reads the header up to the first image descriptor; undefined if it cannot be read. */
export function gifFirstFrame(bytes: Uint8Array): FirstFrame | undefined {
  if (bytes.length < 13) return undefined;
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  const canvasWidth = u16(6);
  const canvasHeight = u16(8);
  const packed = bytes[10];
  let pos = 13;
  let entry0: [number, number, number] = [0, 0, 0];
  if (packed & 0x80) {
    if (pos + 3 > bytes.length) return undefined;
    entry0 = [bytes[pos], bytes[pos + 1], bytes[pos + 2]];
    pos += 3 << ((packed & 7) + 1);
  }
  let transparent = false;
  while (pos < bytes.length) {
    const block = bytes[pos];
    if (block === 0x21) {
      const label = bytes[pos + 1];
      pos += 2;
      if (label === 0xf9 && bytes[pos] >= 4) transparent = (bytes[pos + 1] & 1) === 1;
      while (pos < bytes.length && bytes[pos] !== 0) pos += bytes[pos] + 1; // data sub-blocks
      pos += 1;
    } else if (block === 0x2c) {
      if (pos + 10 > bytes.length) return undefined;
      const local = bytes[pos + 9];
      if (local & 0x80 && pos + 13 <= bytes.length) entry0 = [bytes[pos + 10], bytes[pos + 11], bytes[pos + 12]];
      return { canvasWidth, canvasHeight, left: u16(pos + 1), top: u16(pos + 3), width: u16(pos + 5), height: u16(pos + 7), transparent, entry0 };
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** Paints the pixels outside the first frame as PIL has them (in place, RGB or RGBA from sharp). */
export function fillUncoveredCanvas(pixels: PilPixels, bytes: Uint8Array): void {
  const f = gifFirstFrame(bytes);
  if (!f || f.transparent) return;
  if (f.canvasWidth !== pixels.width || f.canvasHeight !== pixels.height) return;
  const covers = f.left === 0 && f.top === 0 && f.width >= f.canvasWidth && f.height >= f.canvasHeight;
  if (covers) return;
  const { width, height, data, channels } = pixels;
  const x1 = Math.min(width, f.left + f.width);
  const y1 = Math.min(height, f.top + f.height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y >= f.top && y < y1 && x >= f.left && x < x1) continue;
      const o = (y * width + x) * channels;
      data[o] = f.entry0[0];
      data[o + 1] = f.entry0[1];
      data[o + 2] = f.entry0[2];
      if (channels === 4) data[o + 3] = 255;
    }
  }
}
