import { createCpuBackend } from '../../src/backend/cpu/cpuBackend.js';
import { runWeightLoadSuite } from './weightLoadSuite.js';

runWeightLoadSuite('cpu', () => createCpuBackend({ threads: 1 }));
