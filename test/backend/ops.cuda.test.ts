// The backend op suite on the CUDA backend (bf16 activations: the suite's bf16 bounds), with
// every allocation poisoned (NaN) so an unwritten element fails; a second pass forces the
// split-context paged-attention path and its combine kernel.
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { runOpSuite } from './opsSuite.js';

runOpSuite('cuda', () => new CudaBackend({ poisonAllocations: true }));
runOpSuite('cuda, attention split every 3 keys', () => new CudaBackend({ poisonAllocations: true, attentionSplitLen: 3 }));
