#!/usr/bin/env node
// Generates the WASM SIMD matmul kernel (WAT text, built from a template so the register tile is
// readable), assembles it with wabt, and writes src/backend/cpu/matmulWasmBinary.ts (base64).
// Run after changing this file: node scripts/build-matmul-wasm.mjs
//
// Exported: matmul(x, w, out, m, n, k, j0, j1) with byte addresses into the shared memory:
//   out[i, j] = sum_p x[i, p] * w[j, p] for every row i and columns j in [j0, j1) with
//   (j1 - j0) % 4 == 0. Tiles of ROWS rows of x by 4 rows of w, f32x4 partial sums along k,
//   a scalar tail for k % 4, then a last tile of the remaining rows.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const ROWS = Number(process.env.MATMUL_ROWS ?? 2);
const COLS = 4;

function tile(rows) {
  const acc = (r, c) => `$c${r}${c}`;
  const lines = [];
  const L = (s) => lines.push(s);
  // zero accumulators
  for (let r = 0; r < rows; r++) for (let c = 0; c < COLS; c++) L(`(local.set ${acc(r, c)} (v128.const i32x4 0 0 0 0))`);
  L('(local.set $pb (i32.const 0))');
  L('(block $kdone (loop $kloop');
  L('  (br_if $kdone (i32.ge_u (local.get $pb) (local.get $k4b)))');
  for (let r = 0; r < rows; r++) L(`  (local.set $x${r} (v128.load (i32.add (local.get $a${r}) (local.get $pb))))`);
  for (let c = 0; c < COLS; c++) {
    L(`  (local.set $b (v128.load (i32.add (local.get $w${c}) (local.get $pb))))`);
    for (let r = 0; r < rows; r++) L(`  (local.set ${acc(r, c)} (f32x4.add (local.get ${acc(r, c)}) (f32x4.mul (local.get $x${r}) (local.get $b))))`);
  }
  L('  (local.set $pb (i32.add (local.get $pb) (i32.const 16)))');
  L('  (br $kloop)))');
  // horizontal sums into scalars
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < COLS; c++) {
      const v = `(local.get ${acc(r, c)})`;
      L(`(local.set $s${r}${c} (f32.add (f32.add (f32x4.extract_lane 0 ${v}) (f32x4.extract_lane 1 ${v})) (f32.add (f32x4.extract_lane 2 ${v}) (f32x4.extract_lane 3 ${v}))))`);
    }
  }
  // scalar tail over k % 4
  L('(block $tdone (loop $tloop');
  L('  (br_if $tdone (i32.ge_u (local.get $pb) (local.get $kb)))');
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < COLS; c++) {
      L(`  (local.set $s${r}${c} (f32.add (local.get $s${r}${c}) (f32.mul (f32.load (i32.add (local.get $a${r}) (local.get $pb))) (f32.load (i32.add (local.get $w${c}) (local.get $pb))))))`);
    }
  }
  L('  (local.set $pb (i32.add (local.get $pb) (i32.const 4)))');
  L('  (br $tloop)))');
  // store: out + ((i + r) * n + j + c) * 4
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < COLS; c++) {
      L(`(f32.store (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.add (local.get $i) (i32.const ${r})) (local.get $n)) (i32.add (local.get $j) (i32.const ${c}))) (i32.const 2))) (local.get $s${r}${c}))`);
    }
  }
  return lines.join('\n');
}

function module() {
  const locals = [];
  for (let r = 0; r < ROWS; r++) for (let c = 0; c < COLS; c++) locals.push(`(local $c${r}${c} v128) (local $s${r}${c} f32)`);
  for (let r = 0; r < ROWS; r++) locals.push(`(local $x${r} v128) (local $a${r} i32)`);
  for (let c = 0; c < COLS; c++) locals.push(`(local $w${c} i32)`);
  // Row tiles of ROWS, then tiles of 1 row for what is left.
  const rowSetup = (rows) => Array.from({ length: rows }, (_, r) => `(local.set $a${r} (i32.add (local.get $x) (i32.mul (i32.add (local.get $i) (i32.const ${r})) (local.get $kb))))`).join('\n');
  return `(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "matmul") (param $x i32) (param $w i32) (param $out i32) (param $m i32) (param $n i32) (param $k i32) (param $j0 i32) (param $j1 i32)
    (local $j i32) (local $i i32) (local $pb i32) (local $kb i32) (local $k4b i32) (local $b v128)
    ${locals.join('\n    ')}
    (local.set $kb (i32.shl (local.get $k) (i32.const 2)))
    (local.set $k4b (i32.and (local.get $kb) (i32.const -16)))
    (local.set $j (local.get $j0))
    (block $jdone (loop $jloop
      (br_if $jdone (i32.ge_u (local.get $j) (local.get $j1)))
      ${Array.from({ length: COLS }, (_, c) => `(local.set $w${c} (i32.add (local.get $w) (i32.mul (i32.add (local.get $j) (i32.const ${c})) (local.get $kb))))`).join('\n      ')}
      (local.set $i (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.gt_s (i32.add (local.get $i) (i32.const ${ROWS})) (local.get $m)))
        ${rowSetup(ROWS)}
        ${tile(ROWS)}
        (local.set $i (i32.add (local.get $i) (i32.const ${ROWS})))
        (br $iloop)))
      (block $rdone (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $i) (local.get $m)))
        ${rowSetup(1)}
        ${tile(1)}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rloop)))
      (local.set $j (i32.add (local.get $j) (i32.const ${COLS})))
      (br $jloop)))
  )
)`;
}

const wabt = await wabtInit();
const wat = module();
const parsed = wabt.parseWat('matmul.wat', wat, { simd: true, threads: true });
parsed.validate({ simd: true, threads: true });
const { buffer } = parsed.toBinary({});
const target = fileURLToPath(new URL('../src/backend/cpu/matmulWasmBinary.ts', import.meta.url));
writeFileSync(
  target,
  `// Generated by scripts/build-matmul-wasm.mjs (WASM SIMD matmul, ${ROWS}x${COLS} register tile); do not edit.\n` +
    `export const MATMUL_WASM_BASE64 =\n  '${Buffer.from(buffer).toString('base64')}';\n`,
);
console.log(`wrote ${target}: ${buffer.length} bytes`);
