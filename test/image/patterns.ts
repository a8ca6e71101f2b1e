// The integer test pattern of tools/reference/image_patterns.py, computed the same way.
import type { RgbImage } from '../../src/image/decode.js';

export function pattern(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const checker = ((Math.floor(x / 7) + Math.floor(y / 11)) % 2) * 100;
      for (let c = 0; c < 3; c++, o++) {
        const v = x * (c + 1) * 3 + y * (5 - c) * 2 + checker + ((x * x + y * 31 * (c + 1)) % 17);
        data[o] = v % 256;
      }
    }
  }
  return { width, height, data };
}
