// The network against transformers (fp32) on the tiny reference models, on the CPU backend
// (f32): top-5 ids equal at every position of prompt + greedy continuation, logprobs within
// 1e-3, and the 16 greedy tokens identical.
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { runParitySuite } from './transformersParitySuite.js';

runParitySuite('cpu', () => new CpuBackend({ threads: 2 }), { logprobMax: 1e-3, ids: 'all' });
