// Collectives between the ranks of a tensor-parallel group (docs/tensor-parallel.md): what the
// sharded model needs from the backend side. Each rank holds its own Backend and its own
// Collective; every rank calls the same collectives in the same order with tensors of the
// same shape. A collective is ordered like an op on the rank's backend (NCCL enqueues it on
// the rank's stream); the promise resolves once the result may be read by later ops, so the
// in-process implementation (src/backend/cpu/inProcessCollectives.ts) can wait there for the
// other simulated ranks.
import type { DeviceTensor } from './backend.js';

export interface Collective {
  readonly rank: number;
  readonly size: number;
  /** In place on every rank: t = sum over ranks of t (f32 add, in rank order 0, 1, .., N-1,
   *  so the result is the same on every rank and from run to run). */
  allReduceSum(t: DeviceTensor): Promise<void>;
  /** out [m, N*c] on every rank = each rank's local [m, c] side by side, rank order
   *  (vocab-parallel logits: rank r's columns are vocabulary rows r*c .. r*c + c - 1). */
  allGatherColumns(out: DeviceTensor, local: DeviceTensor): Promise<void>;
}
