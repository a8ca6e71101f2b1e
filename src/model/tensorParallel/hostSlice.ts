// Cuts a host tensor (raw little-endian bytes, src/backend/hostTensor.ts) by a WeightSlice:
// rows are one contiguous byte range, columns a strided copy of every row.
import type { HostTensor } from '../../backend/hostTensor.js';
import { WEIGHT_DTYPE_BYTES } from '../../backend/hostTensor.js';
import type { WeightSlice } from './shardPlan.js';

export function sliceHostTensor(t: HostTensor, slice: WeightSlice): HostTensor {
  if (slice.axis === 'replicated') return t;
  const bytes = WEIGHT_DTYPE_BYTES[t.dtype];
  const rows = t.shape[0];
  const cols = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const extent = slice.axis === 'rows' ? rows : t.shape[t.shape.length - 1];
  if (t.shape.length !== 2 && slice.axis === 'columns') throw new Error(`${t.name}: a column slice needs a matrix, got [${t.shape.join(', ')}]`);
  if (slice.start < 0 || slice.count <= 0 || slice.start + slice.count > extent) {
    throw new Error(`${t.name}: ${slice.axis} ${slice.start}..${slice.start + slice.count - 1} outside [${t.shape.join(', ')}]`);
  }
  if (slice.axis === 'rows') {
    const rowBytes = cols * bytes;
    const data = t.data.subarray(slice.start * rowBytes, (slice.start + slice.count) * rowBytes);
    return { name: t.name, dtype: t.dtype, shape: [slice.count, ...t.shape.slice(1)], data };
  }
  const data = new Uint8Array(rows * slice.count * bytes);
  for (let r = 0; r < rows; r++) {
    const from = (r * cols + slice.start) * bytes;
    data.set(t.data.subarray(from, from + slice.count * bytes), r * slice.count * bytes);
  }
  return { name: t.name, dtype: t.dtype, shape: [rows, slice.count], data };
}
