// The network against transformers (fp32) on the tiny reference models, on the CUDA backend
// (bf16 weights and activations, every allocation poisoned): top-1 ids and greedy tokens where
// the reference's top-1/top-2 gap exceeds ID_GAP, logprobs of the reference's top-5 within
// LOGPROB_MAX each and LOGPROB_MEAN on average (./bf16Bound.ts states why).
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { ID_GAP, LOGPROB_MAX, LOGPROB_MEAN } from './bf16Bound.js';
import { runParitySuite } from './transformersParitySuite.js';

runParitySuite('cuda', () => new CudaBackend({ poisonAllocations: true }), { logprobMax: LOGPROB_MAX, logprobMean: LOGPROB_MEAN, ids: ID_GAP });
