// Vision features are cached per image key while its span is being prefilled, freed when the
// span ends, and evicted when no step has used them for a while (aborted requests).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { loadModelWeights } from '../../src/model/deviceWeights.js';
import type { ForwardBatch } from '../../src/model/forwardBatch.js';
import { ImageFeatureCache } from '../../src/model/imageFeatureCache.js';
import { imageTokens, randomImage, randomWeightSource, tinyConfig } from '../helpers/randomWeights.js';

const cfg = tinyConfig();
let backend: CpuBackend;
let cache: ImageFeatureCache;
before(async () => {
  backend = new CpuBackend({ threads: 1 });
  const w = await loadModelWeights(randomWeightSource(cfg), backend);
  cache = new ImageFeatureCache(backend, cfg, w.vision, w.projector);
});
after(() => backend.close());

const image = randomImage(24, 16); // 3 x 2 tokens: span of 8
const span = imageTokens(3, 2);

function batch(tokens: number[], images: ForwardBatch['images']): ForwardBatch {
  const n = tokens.length;
  return {
    tokenIds: Int32Array.from(tokens), positions: Int32Array.from({ length: n }, (_, i) => i), queryLens: Int32Array.of(n),
    contextLens: Int32Array.of(n), slotMapping: Int32Array.from({ length: n }, (_, i) => i), blockTables: Int32Array.of(0),
    maxBlocksPerSeq: 1, images, sampleMask: Uint8Array.of(1),
  };
}

test('an image split over two chunks is encoded once and freed when its span ends', () => {
  const first = batch(span.slice(0, 5), [{ key: 'r1-0', ...image, batchStart: 0, length: 5, spanOffset: 0 }]);
  const placed = cache.place(first);
  assert.equal(placed[0].features.shape[0], 4); // [IMG] x3, [IMG_BREAK], [IMG] x1
  assert.deepEqual(Array.from(placed[0].batchRows), [0, 1, 2, 4]);
  cache.release(first);
  assert.equal(cache.size, 1);
  const second = batch([7, ...span.slice(5)], [{ key: 'r1-0', ...image, batchStart: 1, length: 3, spanOffset: 5 }]);
  const rest = cache.place(second);
  assert.equal(rest[0].features.shape[0], 2);
  assert.deepEqual(Array.from(rest[0].batchRows), [1, 2]);
  cache.release(second);
  assert.equal(cache.size, 0);
});

test('an image left half-done is evicted after 32 idle steps', () => {
  const first = batch(span.slice(0, 3), [{ key: 'r2-0', ...image, batchStart: 0, length: 3, spanOffset: 0 }]);
  cache.place(first);
  cache.release(first);
  for (let i = 0; i < 32; i++) cache.place(batch([5], []));
  assert.equal(cache.size, 1);
  cache.place(batch([5], []));
  assert.equal(cache.size, 0);
});

test('a span whose tokens disagree with the image layout is refused', () => {
  const wrong = batch([10, 10, 10, 10, 12], [{ key: 'r3-0', ...image, batchStart: 0, length: 5, spanOffset: 0 }]);
  assert.throws(() => cache.place(wrong), /batch row 3 holds token 10 where its 16x24 layout has 12/);
  const bad = batch([10, 10, 12, 10, 12], [{ key: 'r4-0', ...image, batchStart: 0, length: 5, spanOffset: 0 }]);
  assert.throws(() => cache.place(bad), /batch row 2 holds token 12 where its 16x24 layout has 10/);
});
