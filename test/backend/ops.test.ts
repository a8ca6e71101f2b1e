// The backend op suite on the CPU backend (two threads, so the split matmul path runs).
import { CpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { runOpSuite } from './opsSuite.js';

runOpSuite('cpu', () => new CpuBackend({ threads: 2 }));
