import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roundHalfEven, tokenGrid } from '../../src/image/sizeRule.js';
import { ImageEncoder } from '../../src/image/encoder.js';
import { pattern } from './patterns.js';
import type { ModelImageConfig } from '../../src/image/encoder.js';
import type { ModelConfig } from '../../src/model/config.js';

// Compile-time check: the model's ModelConfig can be handed to fromModelConfig as it is.
const _modelConfigFits = (c: ModelConfig): ModelImageConfig => c;

test('roundHalfEven is Python round()', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 22.5, 23.5, 2.4999999, 2.5000001, 7].map(roundHalfEven), [0, 2, 2, 22, 24, 2, 3, 7]);
});

test('size rule: downscale only past max_image_size, ties to even, tokens (side - 1) // 28 + 1', () => {
  const g = (w: number, h: number) => {
    const r = tokenGrid(w, h, 14, 1540, 2);
    return [r.widthTokens, r.heightTokens, r.width, r.height];
  };
  assert.deepEqual(g(1, 1), [1, 1, 28, 28]);
  assert.deepEqual(g(28, 29), [1, 2, 28, 56]);
  assert.deepEqual(g(1540, 1540), [55, 55, 1540, 1540]);
  assert.deepEqual(g(1541, 1541), [55, 55, 1540, 1540]);
  assert.deepEqual(g(3080, 45), [55, 1, 1540, 28]); // 22.5 -> 22
  assert.deepEqual(g(3080, 1707), [55, 31, 1540, 868]); // 853.5 -> 854 -> (853 // 28) + 1 = 31
  assert.deepEqual(g(4000, 3000), [55, 42, 1540, 1176]);
  // mistral_common 1.12 clamps each resized side to >= 1 pixel: 4000x1 -> 1540x0.385 -> 1540x1.
  assert.deepEqual(g(4000, 1), [55, 1, 1540, 28]);
  assert.deepEqual(g(1, 4000), [1, 55, 28, 1540]);
  assert.deepEqual(g(100000, 3), [55, 1, 1540, 28]);
});

test('extreme aspect ratios encode (one token row / column), as mistral_common does', () => {
  const enc = new ImageEncoder({ patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2 });
  const wide = enc.encodeRgb({ width: 4000, height: 1, data: new Uint8Array(4000 * 3).fill(200) });
  assert.equal(wide.tokens.length, 56);
  assert.equal(wide.tokens.at(-1), 13);
  const tall = enc.encodeRgb({ width: 1, height: 4000, data: new Uint8Array(4000 * 3).fill(200) });
  assert.equal(tall.tokens.length, 55 * 2);
});

test('image tokens: rows of [IMG] ended by [IMG_BREAK], the last one [IMG_END], with the ids given', () => {
  const rgb = (width: number, height: number) => ({ width, height, data: new Uint8Array(width * height * 3).fill(128) });
  assert.deepEqual(new ImageEncoder({ patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2 }).encodeRgb(rgb(84, 56)).tokens, [10, 10, 10, 12, 10, 10, 10, 13]);
  const custom = new ImageEncoder({ patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2, imageTokenId: 7, imageBreakTokenId: 8, imageEndTokenId: 9 });
  assert.deepEqual(custom.encodeRgb(rgb(20, 20)).tokens, [7, 9]);
});

test('fromTekkenImageConfig reads the tekken.json image block; bad options are refused', () => {
  const enc = ImageEncoder.fromTekkenImageConfig({ image_patch_size: 14, max_image_size: 1540, spatial_merge_size: 2 });
  assert.equal(enc.patchSize, 14);
  assert.equal(enc.maxImageSize, 1540);
  assert.equal(enc.spatialMergeSize, 2);
  assert.deepEqual(enc.tokenIds, { img: 10, imgBreak: 12, imgEnd: 13 });
  assert.equal(ImageEncoder.fromTekkenImageConfig({ image_patch_size: 16, max_image_size: 1024 }).spatialMergeSize, 1);
  assert.throws(() => new ImageEncoder({ patchSize: 0, maxImageSize: 1540, spatialMergeSize: 2 }), /patchSize must be a positive integer/);
  const base = { patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2 };
  assert.throws(() => new ImageEncoder({ ...base, maxPixels: 0 }), /maxPixels must be a positive number/);
  assert.throws(() => new ImageEncoder({ ...base, resizeThreads: 0 }), /resizeThreads must be a positive integer/);
  assert.throws(() => new ImageEncoder({ ...base, resizeArithmetic: 'opencv3' as 'opencv4' }), /resizeArithmetic/);
  const fromParams = ImageEncoder.fromParamsVisionEncoder({
    patch_size: 14, image_size: 1540, max_image_size: 1540, spatial_merge_size: 2,
    image_token_id: 10, image_break_token_id: 12, image_end_token_id: 13,
  });
  assert.deepEqual([fromParams.patchSize, fromParams.maxImageSize, fromParams.spatialMergeSize], [14, 1540, 2]);
  const fromModel = ImageEncoder.fromModelConfig({
    vision: { patchSize: 14, imageSize: 1540 }, projector: { spatialMergeSize: 2 },
    imageTokenId: 20, imageBreakTokenId: 21, imageEndTokenId: 22,
  });
  assert.deepEqual(fromModel.tokenIds, { img: 20, imgBreak: 21, imgEnd: 22 });
  assert.throws(() => ImageEncoder.fromModelConfig({ ...fromModelShape(), vision: null }), /text-only/);
});

test('the threaded path (encode) gives the same pixels as the inline one (encodeRgb)', async () => {
  const enc = new ImageEncoder({ patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2 });
  const sharp = (await import('sharp')).default;
  for (const [w, h] of [[1700, 900], [900, 900]]) {
    const rgb = pattern(w, h);
    const png = await sharp(Buffer.from(rgb.data), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    const threaded = await enc.encode(png);
    const inline = enc.encodeRgb(rgb);
    assert.equal(threaded.width, inline.width);
    assert.ok(Buffer.from(threaded.pixels.buffer).equals(Buffer.from(inline.pixels.buffer)), `${w}x${h} differs`);
  }
});

function fromModelShape() {
  return { vision: null, projector: null, imageTokenId: 10, imageBreakTokenId: 12, imageEndTokenId: 13 };
}
