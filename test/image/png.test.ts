// PNG image data past the image's size: PIL's decoder stops once the image is full and ignores
// the rest, so ours decodes such a file to the same pixels as the file without the excess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { decodePng, PngFormatError } from '../../src/image/png.js';
import { PNG_SIGNATURE_BYTES, pngChunk } from './pngChunks.js';

/** An 8-bit RGB PNG of width x height whose IDAT holds `rows` filtered rows (filter 0). */
function rgbPng(width: number, height: number, rows: number, seed: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc(rows * (1 + 3 * width));
  let x = seed;
  for (let r = 0; r < rows; r++) {
    for (let i = 1; i <= 3 * width; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      raw[r * (1 + 3 * width) + i] = (x >>> 16) & 0xff;
    }
  }
  return Buffer.concat([PNG_SIGNATURE_BYTES, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array())]);
}

for (const [w, h, extra] of [[3, 2, 1], [64, 48, 40], [200, 150, 3000]] as const) {
  test(`PNG ${w}x${h} with ${extra} rows of excess image data decodes like the exact file`, () => {
    const exact = decodePng(rgbPng(w, h, h, 7), 1e8);
    const excess = decodePng(rgbPng(w, h, h + extra, 7), 1e8);
    assert.equal(excess.width, w);
    assert.equal(excess.height, h);
    assert.deepEqual(excess.data, exact.data);
  });
}

test('PNG with too little image data is refused as truncated', () => {
  assert.throws(() => decodePng(rgbPng(10, 10, 9, 3), 1e8), (e: unknown) => e instanceof PngFormatError && /truncated PNG: image data holds 279 of 310 bytes/.test(e.message));
});
