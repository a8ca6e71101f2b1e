// Shape arithmetic every backend's tensors share.
import type { DeviceTensor } from './backend.js';

/** Element count of a shape; every dimension a non-negative integer. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`bad tensor dimension ${d} in [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** A tensor seen as a matrix: [product of the leading dims, last dim]. */
export function rowsCols(t: DeviceTensor): [number, number] {
  const cols = t.shape[t.shape.length - 1] ?? 1;
  return [cols === 0 ? 0 : numel(t.shape) / cols, cols];
}
