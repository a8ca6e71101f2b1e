// Rules every kernel source must keep, checked on any machine: on Hopper the backend launches
// every kernel with programmatic dependent launch, so each __global__ function must begin with
// pdl_entry() (kernels/common.cuh says why). The one exception, the FP8 skinny GEMM, begins with
// pdl_trigger() and waits inside, after loading weights only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { kernelSourceDir } from '../../../src/backend/cuda/kernelLibrary.js';

interface KernelBody {
  readonly file: string;
  readonly name: string;
  /** The body without comments and line continuations, braces excluded. */
  readonly body: string;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/** Every __global__ function of a source: its name and body (brace-matched). */
function globalKernels(file: string, source: string): KernelBody[] {
  const src = stripComments(source).replace(/\\\n/g, '\n');
  const out: KernelBody[] = [];
  for (const m of src.matchAll(/__global__\s+void\s+(?:__launch_bounds__\([^)]*\)\s+)?([\w#]+)\s*\(/g)) {
    const open = src.indexOf('{', m.index + m[0].length);
    let depth = 0;
    let close = open;
    for (; close < src.length; close++) {
      if (src[close] === '{') depth++;
      else if (src[close] === '}' && --depth === 0) break;
    }
    out.push({ file, name: m[1], body: src.slice(open + 1, close) });
  }
  return out;
}

const ENTRY = /^\s*pdl_entry\(\);/;
/** Kernels that may read weights between pdl_trigger() and pdl_wait(), and the function that waits. */
const WEIGHT_PRELOAD: Readonly<Record<string, RegExp>> = { 'fp8_skinny.cu': /^\s*pdl_trigger\(\);\s*fp8_skinny<[^;]*\);\s*$/ };

function entryOk(k: KernelBody): boolean {
  return ENTRY.test(k.body) || (WEIGHT_PRELOAD[k.file]?.test(k.body) ?? false);
}

test('every kernel begins with pdl_entry()', () => {
  const dir = kernelSourceDir();
  const kernels = readdirSync(dir)
    .filter((f) => f.endsWith('.cu'))
    .flatMap((f) => globalKernels(f, readFileSync(`${dir}/${f}`, 'utf8')));
  assert.ok(kernels.length >= 40, `found only ${kernels.length} kernels in ${dir}`);
  assert.ok(kernels.some((k) => k.name === 'fp8_skinny_m##M##_u##U##_bf16'));
  const missing = kernels.filter((k) => !entryOk(k)).map((k) => `${k.file}: ${k.name}`);
  assert.deepEqual(missing, []);
  // The preloading kernel's body waits once, before it reads anything but weights.
  const skinny = stripComments(readFileSync(`${dir}/fp8_skinny.cu`, 'utf8'));
  const wait = skinny.indexOf('pdl_wait();');
  assert.ok(wait > 0 && skinny.indexOf('pdl_wait();', wait + 1) === -1, 'fp8_skinny.cu waits exactly once');
  const body = skinny.indexOf('{', skinny.indexOf('__device__ void fp8_skinny'));
  assert.doesNotMatch(skinny.slice(body, wait), /(?<![.\w])(xq|xs|partial|arrivals|y)\b/, 'fp8_skinny touches only weights before its wait');
});

test('the rule catches a kernel that reads before pdl_entry()', () => {
  const src = [
    'extern "C" __global__ void good(float* y) { pdl_entry(); y[0] = 1.f; }',
    '#define K(N) \\',
    '  extern "C" __global__ void macro_##N(float* y, const unsigned char* w) { \\',
    '    pdl_entry(); \\',
    '  }',
    'extern "C" __global__ void late(float* y) { if (y[0] > 0.f) return; pdl_entry(); }',
    'extern "C" __global__ void none(float* y) { y[0] = 2.f; }',
    'extern "C" __global__ void trig(float* y) { pdl_trigger(); y[0] = 2.f; }',
  ].join('\n');
  const kernels = globalKernels('t.cu', src);
  assert.deepEqual(
    kernels.map((k) => [k.name, entryOk(k)]),
    [
      ['good', true],
      ['macro_##N', true],
      ['late', false],
      ['none', false],
      ['trig', false],
    ],
  );
});
