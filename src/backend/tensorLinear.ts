// A LinearWeight that is one weight tensor multiplied with the backend's matmul: every dense
// weight, and on the CPU an FP8 weight dequantized at upload. Backends share it so the dense
// path is one definition (linear == matmul on the same tensor, bit for bit).
import type { DeviceTensor, LinearWeight } from './backend.js';

export class TensorLinear implements LinearWeight {
  readonly shape: readonly [number, number];

  constructor(
    /** [out, in], as uploadWeight stores it. */
    readonly tensor: DeviceTensor,
    readonly format: 'dense' | 'fp8',
    /** Bytes this handle's rows occupy on the device. */
    readonly bytes: number,
    /** freeLinear frees `tensor` (false: borrowed through asLinear, or a row view). */
    readonly owned: boolean,
  ) {
    if (tensor.shape.length !== 2) throw new Error(`a linear weight is a matrix [out, in], got [${tensor.shape.join(', ')}]`);
    this.shape = [tensor.shape[0], tensor.shape[1]];
  }
}

/** `w` as a TensorLinear of the backend `backend` (a name for messages). */
export function asTensorLinear(w: LinearWeight, backend: string): TensorLinear {
  if (!(w instanceof TensorLinear)) throw new Error(`linear weight [${w.shape.join(', ')}] (${w.format}) was not made by the ${backend} backend`);
  return w;
}

/** Rows rowStart .. rowStart+rows-1 of `w`, sharing its memory. `view` is the backend's. */
export function tensorLinearRows(
  w: TensorLinear,
  rowStart: number,
  rows: number,
  view: (base: DeviceTensor, shape: readonly number[], offset: number) => DeviceTensor,
): TensorLinear {
  const [out, inDim] = w.shape;
  if (!(Number.isInteger(rowStart) && Number.isInteger(rows) && rowStart >= 0 && rows >= 0 && rowStart + rows <= out)) {
    throw new Error(`linearRows: rows ${rowStart}..${rowStart + rows - 1} lie outside a weight of ${out} rows`);
  }
  const bytes = out === 0 ? 0 : (w.bytes / out) * rows;
  return new TensorLinear(view(w.tensor, [rows, inDim], rowStart * inDim), w.format, bytes, false);
}
