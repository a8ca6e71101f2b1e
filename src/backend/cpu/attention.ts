// Attention on the CPU: paged causal attention for text (prefill chunks and decode alike) and
// block-diagonal bidirectional attention for the vision encoder. Scores and softmax in f64.
import type { PagedAttentionArgs, VisionAttentionArgs } from '../backend.js';
import { f32, i32 } from './cpuTensor.js';

export function pagedAttention(a: PagedAttentionArgs): void {
  const { numHeads, numKvHeads, headDim, scale, meta } = a;
  const out = f32(a.out, 'pagedAttention out');
  const q = f32(a.q, 'pagedAttention q');
  const kc = f32(a.kCache, 'pagedAttention kCache');
  const vc = f32(a.vCache, 'pagedAttention vCache');
  const starts = i32(meta.queryStarts, 'queryStarts');
  const ctx = i32(meta.contextLens, 'contextLens');
  const tables = i32(meta.blockTables, 'blockTables');
  const blockSize = a.kCache.shape[1];
  const group = numHeads / numKvHeads;
  if (!Number.isInteger(group)) throw new Error(`pagedAttention: ${numHeads} heads over ${numKvHeads} KV heads`);
  const qWidth = numHeads * headDim;
  const kvWidth = numKvHeads * headDim;
  const scores = new Float64Array(meta.maxContextLen);
  const acc = new Float64Array(headDim);
  // Cache row offset of each context position of the current sequence.
  const rowOf = new Int32Array(meta.maxContextLen);
  for (let s = 0; s < meta.numSeqs; s++) {
    const qStart = starts[s];
    const qLen = starts[s + 1] - qStart;
    const ctxLen = ctx[s];
    for (let t = 0; t < ctxLen; t++) {
      const block = tables[s * meta.maxBlocksPerSeq + Math.floor(t / blockSize)];
      if (block < 0) throw new Error(`pagedAttention: sequence ${s} has no block for position ${t}`);
      rowOf[t] = (block * blockSize + (t % blockSize)) * kvWidth;
    }
    for (let j = 0; j < qLen; j++) {
      const pos = ctxLen - qLen + j; // attends to 0..pos
      const qRow = (qStart + j) * qWidth;
      for (let h = 0; h < numHeads; h++) {
        const qOff = qRow + h * headDim;
        const kvOff = Math.floor(h / group) * headDim;
        let max = -Infinity;
        for (let t = 0; t <= pos; t++) {
          const kOff = rowOf[t] + kvOff;
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[qOff + d] * kc[kOff + d];
          const sc = dot * scale;
          scores[t] = sc;
          if (sc > max) max = sc;
        }
        let sum = 0;
        for (let t = 0; t <= pos; t++) {
          const e = Math.exp(scores[t] - max);
          scores[t] = e;
          sum += e;
        }
        acc.fill(0);
        for (let t = 0; t <= pos; t++) {
          const vOff = rowOf[t] + kvOff;
          const p = scores[t] / sum;
          for (let d = 0; d < headDim; d++) acc[d] += p * vc[vOff + d];
        }
        for (let d = 0; d < headDim; d++) out[qOff + d] = acc[d];
      }
    }
  }
}

export function visionAttention(a: VisionAttentionArgs): void {
  const { numHeads, headDim, scale, spans } = a;
  const out = f32(a.out, 'visionAttention out');
  const q = f32(a.q, 'visionAttention q');
  const k = f32(a.k, 'visionAttention k');
  const v = f32(a.v, 'visionAttention v');
  const starts = i32(spans.patchStarts, 'patchStarts');
  const width = numHeads * headDim;
  const scores = new Float64Array(spans.maxPatches);
  const acc = new Float64Array(headDim);
  for (let img = 0; img + 1 < starts.length; img++) {
    const lo = starts[img];
    const hi = starts[img + 1];
    for (let i = lo; i < hi; i++) {
      for (let h = 0; h < numHeads; h++) {
        const qOff = i * width + h * headDim;
        let max = -Infinity;
        for (let t = lo; t < hi; t++) {
          const kOff = t * width + h * headDim;
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[qOff + d] * k[kOff + d];
          const sc = dot * scale;
          scores[t - lo] = sc;
          if (sc > max) max = sc;
        }
        let sum = 0;
        for (let t = 0; t < hi - lo; t++) {
          const e = Math.exp(scores[t] - max);
          scores[t] = e;
          sum += e;
        }
        acc.fill(0);
        for (let t = lo; t < hi; t++) {
          const vOff = t * width + h * headDim;
          const p = scores[t - lo] / sum;
          for (let d = 0; d < headDim; d++) acc[d] += p * v[vOff + d];
        }
        for (let d = 0; d < headDim; d++) out[qOff + d] = acc[d];
      }
    }
  }
}
