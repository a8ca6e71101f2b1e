// Parity with mistral_common's pipeline (PIL decode + cv2 INTER_CUBIC), golden data from
// tools/reference/image_golden.py: tokens exactly, decoded RGB bytes exactly, normalised
// pixels within 1e-4. golden/ comes from the GPU machine (cv2 5.0, Pillow 12.3);
// golden-opencv4/ from Debian's cv2 4.6 / Pillow 9.4 and checks the 'opencv4' arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ImageEncoder } from '../../src/image/encoder.js';
import { decodeToRgb, DEFAULT_MAX_PIXELS, type RgbImage } from '../../src/image/decode.js';
import { fixture } from '../helpers/paths.js';
import { pattern } from './patterns.js';

interface GoldenCase {
  name: string;
  file?: string;
  pattern?: [number, number];
  decodedWidth: number;
  decodedHeight: number;
  decodedRgbMd5: string;
  widthTokens: number;
  heightTokens: number;
  tokens: number[];
  width: number;
  height: number;
  channelSums: [number, number, number];
  pixelsFile?: string;
  sampleFile?: string;
}
interface Golden {
  cv2: string;
  pillow: string;
  config: { patchSize: number; maxImageSize: number; spatialMergeSize: number };
  samples: number;
  cases: GoldenCase[];
}

const TOLERANCE = 1e-4;

for (const dir of ['golden', 'golden-opencv4']) {
  const golden = JSON.parse(readFileSync(fixture('image', dir, 'golden.json'), 'utf8')) as Golden;
  const resizeArithmetic = golden.cv2.startsWith('4.') ? 'opencv4' : 'opencv5';
  const encoder = new ImageEncoder({ ...golden.config, resizeArithmetic });
  const readF32 = (name: string): Float32Array => {
    const buf = readFileSync(fixture('image', dir, name));
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  };
  let worst = 0;
  for (const c of golden.cases) checkCase(golden, c, encoder, readF32, (d) => (worst = Math.max(worst, d), worst));
}

function checkCase(
  golden: Golden,
  c: GoldenCase,
  encoder: ImageEncoder,
  readF32: (name: string) => Float32Array,
  noteWorst: (diff: number) => number,
): void {
  test(`image golden ${c.name} (cv2 ${golden.cv2}, Pillow ${golden.pillow}, ${encoder.resizeArithmetic})`, async (t) => {
    let rgb: RgbImage;
    if (c.file) {
      const bytes = new Uint8Array(readFileSync(fixture('image', 'inputs', c.file)));
      rgb = await decodeToRgb(bytes, c.file, DEFAULT_MAX_PIXELS);
    } else {
      const [w, h] = c.pattern as [number, number];
      rgb = pattern(w, h);
    }
    assert.equal(rgb.width, c.decodedWidth);
    assert.equal(rgb.height, c.decodedHeight);
    const md5 = createHash('md5').update(rgb.data).digest('hex');
    assert.equal(md5, c.decodedRgbMd5, 'decoded RGB bytes differ from PIL');

    const out = encoder.encodeRgb(rgb, c.name);
    assert.equal(out.widthTokens, c.widthTokens);
    assert.equal(out.heightTokens, c.heightTokens);
    assert.deepEqual(out.tokens, c.tokens);
    assert.equal(out.width, c.width);
    assert.equal(out.height, c.height);
    assert.equal(out.pixels.length, 3 * c.width * c.height);

    let maxDiff = 0;
    if (c.pixelsFile) {
      const ref = readF32(c.pixelsFile);
      assert.equal(ref.length, out.pixels.length);
      for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - out.pixels[i]));
    } else {
      const ref = readF32(c.sampleFile as string);
      const n = out.pixels.length;
      for (let i = 0; i < golden.samples; i++) {
        const at = (i * 2654435761) % n;
        maxDiff = Math.max(maxDiff, Math.abs(ref[i] - out.pixels[at]));
      }
    }
    const plane = c.width * c.height;
    for (let ch = 0; ch < 3; ch++) {
      let sum = 0;
      for (let i = ch * plane; i < (ch + 1) * plane; i++) sum += out.pixels[i];
      assert.ok(Math.abs(sum - c.channelSums[ch]) <= 1e-5 * plane, `channel ${ch} sum ${sum} vs ${c.channelSums[ch]}`);
    }
    const worst = noteWorst(maxDiff);
    t.diagnostic(`max abs diff ${maxDiff.toExponential(2)} (worst so far ${worst.toExponential(2)})`);
    assert.ok(maxDiff < TOLERANCE, `max abs diff ${maxDiff} >= ${TOLERANCE}`);
  });
}
