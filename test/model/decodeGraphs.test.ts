// The pure parts of decode-graph keying (src/model/decodeGraphs.ts): which steps count as plain
// decode and verify steps (uniform query length, every row sampled), the block-table stride a step is shaped for, and the re-laid block tables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStride, isDecodeStep, restrideBlockTables, uniformQueryLen } from '../../src/model/decodeGraphs.js';
import type { ForwardBatch } from '../../src/model/forwardBatch.js';

function batch(o: Partial<ForwardBatch> & { contextLens: Int32Array }): ForwardBatch {
  const n = o.contextLens.length;
  return {
    tokenIds: new Int32Array(n).fill(5),
    positions: Int32Array.from(o.contextLens, (c) => c - 1),
    queryLens: new Int32Array(n).fill(1),
    slotMapping: new Int32Array(n),
    blockTables: new Int32Array(n * 4).fill(-1),
    maxBlocksPerSeq: 4,
    images: [],
    sampleMask: new Uint8Array(n).fill(1),
    ...o,
  };
}

test('a plain decode step: one token per sequence, all sampled, no images, no prompt logprobs', () => {
  const b = batch({ contextLens: Int32Array.of(10, 20) });
  assert.equal(isDecodeStep(b), true);
  assert.equal(isDecodeStep(b, [null, null]), true);
  assert.equal(isDecodeStep(b, [null, { numLogprobs: 1, targetTokenIds: Int32Array.of(3) }]), false);
  assert.equal(isDecodeStep({ ...b, sampleMask: Uint8Array.of(1, 0) }), false);
  assert.equal(isDecodeStep({ ...b, tokenIds: Int32Array.of(1, 2, 3), queryLens: Int32Array.of(2, 1) }), false);
  const image = { key: 'r0:0', pixels: new Float32Array(0), height: 0, width: 0, batchStart: 0, length: 1, spanOffset: 0 };
  assert.equal(isDecodeStep({ ...b, images: [image] }), false);
});

test('a verify step: q rows per sequence, every row sampled by its own parameters', () => {
  const p = { temperature: 0 } as never;
  const two = batch({ contextLens: Int32Array.of(10, 20), tokenIds: new Int32Array(6).fill(5), queryLens: Int32Array.of(3, 3) });
  assert.equal(uniformQueryLen(two, [[p, p, p], [p, p, p]]), 3);
  assert.equal(uniformQueryLen(two, null), 3);
  assert.equal(isDecodeStep(two), false);
  assert.equal(uniformQueryLen(two, [[p, p, p], p]), 0); // the second sequence samples only its last row
  assert.equal(uniformQueryLen({ ...two, queryLens: Int32Array.of(2, 4) }, null), 0);
  assert.equal(uniformQueryLen({ ...two, sampleMask: Uint8Array.of(1, 0) }, null), 0);
  assert.equal(uniformQueryLen(two, [[p, p, p], [p, p, p]], [null, { numLogprobs: 0, targetTokenIds: Int32Array.of(1, 2, 3) }]), 0);
  const one = batch({ contextLens: Int32Array.of(10, 20) });
  assert.equal(uniformQueryLen(one, [p, [p]]), 1);
  assert.equal(uniformQueryLen(one, [p, null]), 0);
});

test('stride: a power of two of blocks covering the longest context (at least 256 keys), capped', () => {
  assert.equal(decodeStride(batch({ contextLens: Int32Array.of(1, 9) }), 16, 8192), 16); // 256 keys minimum
  assert.equal(decodeStride(batch({ contextLens: Int32Array.of(256) }), 16, 8192), 16);
  assert.equal(decodeStride(batch({ contextLens: Int32Array.of(257) }), 16, 8192), 32);
  assert.equal(decodeStride(batch({ contextLens: Int32Array.of(3, 1100) }), 16, 8192), 128);
  assert.equal(decodeStride(batch({ contextLens: Int32Array.of(131032) }), 16, 8192), 8192);
  assert.equal(decodeStride(batch({ contextLens: Int32Array.of(1100) }), 16, 72), 72); // max model len 1152
});

test('re-laid block tables keep each row\'s blocks and pad with -1, from a narrower or a wider layout', () => {
  const narrow = batch({ contextLens: Int32Array.of(20, 40), blockTables: Int32Array.of(7, 8, -1, 3, 4, 5), maxBlocksPerSeq: 3 });
  assert.deepEqual([...restrideBlockTables(narrow, 4)], [7, 8, -1, -1, 3, 4, 5, -1]);
  const wide = batch({ contextLens: Int32Array.of(20, 40), blockTables: Int32Array.of(7, 8, -1, -1, -1, 3, 4, 5, -1, -1), maxBlocksPerSeq: 5 });
  assert.deepEqual([...restrideBlockTables(wide, 3)], [7, 8, -1, 3, 4, 5]);
});
