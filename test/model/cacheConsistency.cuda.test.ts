// Cache consistency on the CUDA backend (bf16, every allocation poisoned): logprobs within
// SAME_BACKEND_BOUND (./bf16Bound.ts): the decode, chunked and batched paths run different
// kernels (split-context decode attention, gemv) whose f32 sums round differently into bf16.
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { SAME_BACKEND_BOUND } from './bf16Bound.js';
import { runCacheConsistencySuite } from './cacheConsistencySuite.js';

runCacheConsistencySuite('cuda', () => new CudaBackend({ poisonAllocations: true }), { logprob: SAME_BACKEND_BOUND, batchLogprob: SAME_BACKEND_BOUND, sameRanking: false });
