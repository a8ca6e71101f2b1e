// Rules every kernel source must keep, checked on any machine: on Hopper the backend launches
// every kernel with programmatic dependent launch, so each __global__ function must begin with
// pdl_entry() (kernels/common.cuh says why). The exceptions, the FP8 skinny GEMM and the FP8
// GEMV, begin with pdl_trigger() and wait inside, after loading weights only.
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
/** Files whose kernels may read weights between pdl_trigger() and pdl_wait(): the device function
 *  each kernel calls right after pdl_trigger(), which waits once, and the names that function must
 *  not touch before its wait (everything but the weights). */
const WEIGHT_PRELOAD: Readonly<Record<string, { fn: string; notBeforeWait: RegExp }>> = {
  'fp8_skinny.cu': { fn: 'fp8_skinny', notBeforeWait: /(?<![.\w])(xq|xs|partial|arrivals|y)\b/ },
  'fp8_gemv.cu': { fn: 'fp8_gemv', notBeforeWait: /(?<![.\w])(x|xr|y|scales|positions|slotMapping|kCache|vCache)\b/ },
};

function entryOk(k: KernelBody): boolean {
  const preload = WEIGHT_PRELOAD[k.file];
  return ENTRY.test(k.body) || (preload !== undefined && new RegExp(`^\\s*pdl_trigger\\(\\);\\s*${preload.fn}<[^;]*\\);\\s*$`).test(k.body));
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
  // The preloading kernels' device function waits once, before it reads anything but weights.
  for (const [file, { fn, notBeforeWait }] of Object.entries(WEIGHT_PRELOAD)) {
    assert.ok(kernels.some((k) => k.file === file && !ENTRY.test(k.body)), `${file} has a preloading kernel`);
    const src = stripComments(readFileSync(`${dir}/${file}`, 'utf8'));
    const wait = src.indexOf('pdl_wait();');
    assert.ok(wait > 0 && src.indexOf('pdl_wait();', wait + 1) === -1, `${file} waits exactly once`);
    const body = src.indexOf('{', src.indexOf(`__device__ void ${fn}`));
    assert.ok(body > 0 && body < wait, `${fn} is defined before the wait`);
    assert.doesNotMatch(src.slice(body, wait), notBeforeWait, `${fn} touches only weights before its wait`);
  }
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
