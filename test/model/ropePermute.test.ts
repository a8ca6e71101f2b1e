import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hfToMistralRows, mistralToHfRows } from '../../src/model/ropePermute.js';

/** Rows tagged with their own index: row r holds `cols` copies of r (as u16). */
function taggedRows(rows: number, cols: number): Uint8Array {
  const u = new Uint16Array(rows * cols);
  for (let r = 0; r < rows; r++) u.fill(r, r * cols, (r + 1) * cols);
  return new Uint8Array(u.buffer);
}

test('Mistral -> HF rows follow docs/model.md#rope-permutation: HF[h*hd + half*hd/2 + i] = M[h*hd + 2i + half]', () => {
  for (const [heads, hd, cols] of [[1, 2, 1], [3, 8, 5], [2, 12, 3]]) {
    const rows = heads * hd;
    const out = new Uint16Array(mistralToHfRows(taggedRows(rows, cols), rows, heads).buffer);
    for (let h = 0; h < heads; h++) {
      for (let half = 0; half < 2; half++) {
        for (let i = 0; i < hd / 2; i++) {
          const hfRow = h * hd + half * (hd / 2) + i;
          for (let c = 0; c < cols; c++) assert.equal(out[hfRow * cols + c], h * hd + 2 * i + half);
        }
      }
    }
    const back = hfToMistralRows(mistralToHfRows(taggedRows(rows, cols), rows, heads), rows, heads);
    assert.deepEqual(back, taggedRows(rows, cols));
  }
});

test('shapes the permutation cannot apply to are refused', () => {
  assert.throws(() => mistralToHfRows(new Uint8Array(12), 6, 4), /6 rows do not split into 4 heads/);
  assert.throws(() => mistralToHfRows(new Uint8Array(12), 6, 2), /head width 3 is odd/);
  assert.throws(() => mistralToHfRows(new Uint8Array(13), 4, 2), /13 bytes do not split into 4 rows/);
});
