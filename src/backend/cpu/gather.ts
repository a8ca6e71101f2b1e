// Data movement ops: embedding gather, KV-cache writes, patchify, patch merge, row gather/scatter.
import type { DeviceTensor, ImageSpans } from '../backend.js';
import { f32, i32 } from './cpuTensor.js';
import { rowsCols } from '../tensorShape.js';
import { patchifyF32, patchifyGeometry } from '../patchLayout.js';

function copyRowsByIndex(
  dst: Float32Array,
  src: Float32Array,
  d: number,
  count: number,
  dstRow: (i: number) => number,
  srcRow: (i: number) => number,
): void {
  for (let i = 0; i < count; i++) {
    const s = srcRow(i) * d;
    dst.set(src.subarray(s, s + d), dstRow(i) * d);
  }
}

function checkRow(r: number, rows: number, op: string): void {
  if (!(r >= 0 && r < rows)) throw new Error(`${op}: row index ${r} outside [0, ${rows})`);
}

export function embedding(out: DeviceTensor, table: DeviceTensor, ids: DeviceTensor): void {
  const idx = i32(ids, 'embedding ids');
  const [vocab, d] = rowsCols(table);
  const [n, od] = rowsCols(out);
  if (od !== d || n !== idx.length) throw new Error(`embedding: out [${out.shape.join(', ')}] does not fit ${idx.length} rows of ${d}`);
  for (const id of idx) checkRow(id, vocab, 'embedding');
  copyRowsByIndex(f32(out, 'embedding out'), f32(table, 'embedding table'), d, n, (i) => i, (i) => idx[i]);
}

export function gatherRows(out: DeviceTensor, src: DeviceTensor, rows: DeviceTensor): void {
  const idx = i32(rows, 'gatherRows rows');
  const [n, d] = rowsCols(src);
  const [m, od] = rowsCols(out);
  if (od !== d || m !== idx.length) throw new Error(`gatherRows: out [${out.shape.join(', ')}] does not fit ${idx.length} rows of ${d}`);
  for (const r of idx) checkRow(r, n, 'gatherRows');
  copyRowsByIndex(f32(out, 'gatherRows out'), f32(src, 'gatherRows src'), d, m, (i) => i, (i) => idx[i]);
}

export function scatterRows(dst: DeviceTensor, src: DeviceTensor, rows: DeviceTensor): void {
  const idx = i32(rows, 'scatterRows rows');
  const [n, d] = rowsCols(dst);
  const [m, sd] = rowsCols(src);
  if (sd !== d || m !== idx.length) throw new Error(`scatterRows: src [${src.shape.join(', ')}] does not fit ${idx.length} rows of ${d}`);
  for (const r of idx) checkRow(r, n, 'scatterRows');
  copyRowsByIndex(f32(dst, 'scatterRows dst'), f32(src, 'scatterRows src'), d, m, (i) => idx[i], (i) => i);
}

export function writeKv(
  kCache: DeviceTensor,
  vCache: DeviceTensor,
  k: DeviceTensor,
  v: DeviceTensor,
  slotMapping: DeviceTensor,
): void {
  const slots = i32(slotMapping, 'writeKv slotMapping');
  const [numBlocks, blockSize] = kCache.shape;
  const totalSlots = numBlocks * blockSize;
  const [n, width] = rowsCols(k);
  const [, cacheWidth] = [0, kCache.shape.slice(2).reduce((a, b) => a * b, 1)];
  if (width !== cacheWidth) throw new Error(`writeKv: k rows of ${width} do not fit cache rows of ${cacheWidth}`);
  if (n !== slots.length) throw new Error(`writeKv: ${n} rows but ${slots.length} slots`);
  const kc = f32(kCache, 'writeKv kCache');
  const vc = f32(vCache, 'writeKv vCache');
  const ks = f32(k, 'writeKv k');
  const vs = f32(v, 'writeKv v');
  for (let t = 0; t < n; t++) {
    const slot = slots[t];
    if (slot < 0) continue;
    checkRow(slot, totalSlots, 'writeKv slot');
    kc.set(ks.subarray(t * width, (t + 1) * width), slot * width);
    vc.set(vs.subarray(t * width, (t + 1) * width), slot * width);
  }
}

export function patchMerge(out: DeviceTensor, x: DeviceTensor, spans: ImageSpans, merge: number): void {
  const o = f32(out, 'patchMerge out');
  const src = f32(x, 'patchMerge x');
  const [numPatches, c] = rowsCols(x);
  const starts = i32(spans.patchStarts, 'patchMerge patchStarts');
  const mm = merge * merge;
  const [outRows, outCols] = rowsCols(out);
  if (outCols !== c * mm || outRows * mm !== numPatches) {
    throw new Error(`patchMerge: out [${out.shape.join(', ')}] does not fit ${numPatches} patches of ${c} merged ${merge}x${merge}`);
  }
  let outRow = 0;
  for (let img = 0; img < spans.gridRows.length; img++) {
    const h = spans.gridRows[img];
    const w = spans.gridCols[img];
    if (h % merge || w % merge) throw new Error(`patchMerge: image ${img} grid ${h}x${w} not a multiple of ${merge}`);
    const base = starts[img];
    for (let bi = 0; bi < h / merge; bi++) {
      for (let bj = 0; bj < w / merge; bj++) {
        const dst = outRow * c * mm;
        for (let di = 0; di < merge; di++) {
          for (let dj = 0; dj < merge; dj++) {
            const p = base + (merge * bi + di) * w + merge * bj + dj;
            const sub = di * merge + dj;
            for (let ch = 0; ch < c; ch++) o[dst + ch * mm + sub] = src[p * c + ch];
          }
        }
        outRow++;
      }
    }
  }
}

export function patchify(out: DeviceTensor, pixels: DeviceTensor, spans: ImageSpans, patch: number): void {
  const { channels } = patchifyGeometry(out, pixels, spans, patch);
  patchifyF32(f32(out, 'patchify out'), f32(pixels, 'patchify pixels'), spans.gridRows, spans.gridCols, patch, channels);
}
