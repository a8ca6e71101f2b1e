// Cache consistency on the CPU backend (f32): the paths agree on ranks, top ids and greedy
// tokens, logprobs within 1e-4 (1e-5 for a batch of two against each alone).
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { runCacheConsistencySuite } from './cacheConsistencySuite.js';

runCacheConsistencySuite('cpu', () => new CpuBackend({ threads: 2 }), { logprob: 1e-4, batchLogprob: 1e-5, sameRanking: true });
