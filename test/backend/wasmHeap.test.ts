// The CPU backend's allocator over one shared WebAssembly memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmHeap } from '../../src/backend/cpu/wasmHeap.js';

test('allocations are aligned, disjoint, reused after release, and survive growth', () => {
  const heap = new WasmHeap(65536);
  const a = heap.alloc(100);
  const b = heap.alloc(1000);
  assert.equal(a % 64, 0);
  assert.equal(b % 64, 0);
  assert.ok(b >= a + 100);
  const va = heap.f32(a, 25);
  va.fill(3);
  // Growth: a large allocation grows the memory; earlier views still see their bytes.
  const big = heap.alloc(5 * 1024 * 1024);
  assert.ok(heap.memory.buffer.byteLength >= big + 5 * 1024 * 1024);
  assert.equal(va[24], 3);
  assert.equal(heap.f32(a, 25)[24], 3);
  heap.release(b, 1000);
  const c = heap.alloc(500); // first fit: b's range
  assert.equal(c, b);
  heap.release(c, 500);
  heap.release(a, 100);
  // a and b's ranges coalesced: 1100 bytes fit at a
  assert.equal(heap.alloc(1100), a);
  const inUse = heap.bytesInUse;
  heap.release(big, 5 * 1024 * 1024);
  assert.equal(heap.bytesInUse, inUse - 5 * 1024 * 1024);
});

test('more than wasm32 can address is refused with a clear error', () => {
  const heap = new WasmHeap(65536);
  assert.throws(() => heap.alloc(5 * 1024 ** 3), /4 GiB/);
  assert.equal(heap.bytesInUse, 0);
});
