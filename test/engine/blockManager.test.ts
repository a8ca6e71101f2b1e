import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockManager } from '../../src/engine/blockManager.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('allocate grows tables, free returns every block, usage follows', () => {
  const bm = new BlockManager(8, 4);
  assert.equal(bm.allocate('a', 5), true); // 2 blocks
  assert.equal(bm.blockTable('a').length, 2);
  assert.equal(bm.allocate('a', 8), true); // still 2
  assert.equal(bm.blockTable('a').length, 2);
  assert.equal(bm.allocate('a', 9), true); // 3
  assert.equal(bm.usage(), 3 / 8);
  assert.equal(bm.allocate('b', 21), false, '6 blocks do not fit in 5');
  assert.equal(bm.blockTable('b').length, 0, 'a failed allocation changes nothing');
  bm.checkInvariants();
  bm.free('a');
  bm.free('a'); // idempotent
  assert.equal(bm.numFreeBlocks, 8);
  bm.checkInvariants();
});

test('prefix hits return the same blocks, shared by reference count', () => {
  const bm = new BlockManager(10, 4);
  const hashes = ['h0', 'h1', 'h2'];
  assert.deepEqual(bm.findCachedPrefix(hashes, 3, 12), []);
  assert.ok(bm.allocate('a', 12));
  const tableA = [...bm.blockTable('a')];
  bm.commitFullBlocks('a', hashes, 3);
  // While a runs, b shares its first two blocks.
  const hit = bm.findCachedPrefix(hashes, 2, 12);
  assert.deepEqual(hit, tableA.slice(0, 2));
  assert.ok(bm.allocate('b', 10, hit));
  assert.deepEqual(bm.blockTable('b').slice(0, 2), tableA.slice(0, 2));
  assert.equal(bm.numFreeBlocks, 10 - 3 - 1);
  bm.checkInvariants();
  bm.free('a');
  bm.checkInvariants();
  // a's blocks stay cached after it ends; a third request finds all three.
  assert.deepEqual(bm.findCachedPrefix(hashes, 3, 12), tableA);
  bm.free('b');
  assert.equal(bm.numFreeBlocks, 10);
  assert.deepEqual(bm.stats, { queries: 36, hits: 8 + 12 });
});

test('LRU eviction takes the least recently freed blocks, tail blocks first', () => {
  const bm = new BlockManager(4, 2);
  assert.ok(bm.allocate('a', 4));
  const a = [...bm.blockTable('a')];
  bm.commitFullBlocks('a', ['a0', 'a1'], 2);
  bm.free('a');
  assert.ok(bm.allocate('b', 4));
  bm.commitFullBlocks('b', ['b0', 'b1'], 2);
  bm.free('b');
  // One new block: taken from the never-used or oldest-freed ones, so a's tail goes first.
  assert.ok(bm.allocate('c', 2));
  assert.equal(bm.blockTable('c')[0], a[1]);
  assert.deepEqual(bm.findCachedPrefix(['a0', 'a1'], 2, 4), [a[0]], 'a1 was evicted, a0 kept');
  assert.equal(bm.findCachedPrefix(['b0', 'b1'], 2, 4).length, 2);
  bm.free('c');
  bm.checkInvariants();
});

test('a touched cached block that sits in the free queue counts against free space', () => {
  const bm = new BlockManager(3, 2);
  assert.ok(bm.allocate('a', 4));
  bm.commitFullBlocks('a', ['x0', 'x1'], 2);
  bm.free('a');
  const hit = bm.findCachedPrefix(['x0', 'x1'], 2, 4);
  assert.equal(hit.length, 2);
  // 2 cached (idle) + 2 new = 4 > 3 blocks.
  assert.equal(bm.allocate('b', 8, hit), false);
  assert.ok(bm.allocate('b', 6, hit));
  bm.checkInvariants();
  bm.free('b');
  assert.equal(bm.numFreeBlocks, 3);
});

test('random interleavings never leak, double-free or break the free queue', () => {
  const rand = rng(7);
  const bm = new BlockManager(32, 4);
  const live = new Map<string, { tokens: number; hashes: string[] }>();
  let next = 0;
  for (let op = 0; op < 5000; op++) {
    const r = rand();
    if (r < 0.35 || live.size === 0) {
      const id = `r${next++}`;
      const prefix = Math.floor(rand() * 3);
      const hashes = Array.from({ length: 8 }, (_, i) => (i < 2 ? `p${prefix}-${i}` : `${id}-${i}`));
      const tokens = 1 + Math.floor(rand() * 20);
      const hit = bm.findCachedPrefix(hashes, Math.floor((tokens - 1) / 4), tokens);
      if (bm.allocate(id, tokens, hit)) {
        live.set(id, { tokens, hashes });
        hit.forEach((b, i) => assert.equal(bm.blockTable(id)[i], b));
      }
    } else if (r < 0.75) {
      const ids = [...live.keys()];
      const id = ids[Math.floor(rand() * ids.length)];
      const st = live.get(id)!;
      const grow = 1 + Math.floor(rand() * 6);
      if (st.tokens + grow <= 32 && bm.allocate(id, st.tokens + grow)) st.tokens += grow;
      bm.commitFullBlocks(id, st.hashes, Math.floor(st.tokens / 4));
    } else {
      const ids = [...live.keys()];
      const id = ids[Math.floor(rand() * ids.length)];
      bm.free(id);
      live.delete(id);
    }
    if (op % 50 === 0) bm.checkInvariants();
  }
  for (const id of live.keys()) bm.free(id);
  bm.checkInvariants();
  assert.equal(bm.numFreeBlocks, 32);
});
