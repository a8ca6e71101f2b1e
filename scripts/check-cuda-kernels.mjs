#!/usr/bin/env node
// Compiles every CUDA kernel file (src/backend/cuda/kernels/*.cu) with nvcc for sm_80 and
// sm_90a, warnings as errors, so a kernel that does not compile fails CI even on a machine
// without a GPU. When nvcc is not installed it says so and skips (exit 0).
//
//   node scripts/check-cuda-kernels.mjs            all kernel files, both architectures
//   NVCC=/path/to/nvcc node scripts/check-cuda-kernels.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const kernelDir = join(root, 'src', 'backend', 'cuda', 'kernels');
const TARGETS = [
  ['sm_80', '-gencode=arch=compute_80,code=sm_80'],
  ['sm_90a', '-gencode=arch=compute_90a,code=sm_90a'],
];

function findNvcc() {
  const candidates = [
    process.env.NVCC,
    process.env.CUDA_HOME && join(process.env.CUDA_HOME, 'bin', 'nvcc'),
    process.env.CUDA_PATH && join(process.env.CUDA_PATH, 'bin', 'nvcc'),
    '/usr/local/cuda/bin/nvcc',
  ].filter(Boolean);
  for (const c of candidates) if (existsSync(c)) return c;
  const which = spawnSync('sh', ['-c', 'command -v nvcc'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : null;
}

const nvcc = findNvcc();
if (!nvcc) {
  console.log('check-cuda-kernels: nvcc not found (NVCC, CUDA_HOME, /usr/local/cuda/bin, PATH): SKIPPED kernel compile check');
  process.exit(0);
}
const files = readdirSync(kernelDir).filter((f) => f.endsWith('.cu')).sort();
if (files.length === 0) {
  console.error(`check-cuda-kernels: no .cu files in ${kernelDir}`);
  process.exit(1);
}
const version = execFileSync(nvcc, ['--version'], { encoding: 'utf8' }).trim().split('\n').pop();
const out = mkdtempSync(join(tmpdir(), 'tramontane-cu-'));
let failed = 0;
try {
  for (const file of files) {
    for (const [arch, gencode] of TARGETS) {
      const args = ['-std=c++17', gencode, '-cubin', '-Werror', 'all-warnings', '-o', join(out, `${file}.${arch}.cubin`), join(kernelDir, file)];
      const r = spawnSync(nvcc, args, { encoding: 'utf8' });
      if (r.status !== 0) {
        failed++;
        console.error(`FAIL ${file} (${arch}):\n${r.stderr}${r.stdout}`);
      }
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(`check-cuda-kernels: ${files.length} files x ${TARGETS.length} archs with ${nvcc} (${version}): ${failed === 0 ? 'all compiled' : `${failed} failed`}`);
process.exit(failed === 0 ? 0 : 1);
