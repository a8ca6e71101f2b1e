// Pinned staging buffers and copies on the sink's own stream must place every weight exactly as
// uploadWeight does (allocations poisoned, so a byte the loader failed to place shows).
import { CudaBackend } from '../../src/backend/cuda/cudaBackend.js';
import { runWeightLoadSuite } from './weightLoadSuite.js';

runWeightLoadSuite('cuda', () => new CudaBackend({ poisonAllocations: true }));
