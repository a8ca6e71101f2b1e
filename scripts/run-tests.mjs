#!/usr/bin/env node
// Runs the compiled tests under dist/test with node's own test runner and ends
// with a plain "N passed, N failed" line. Exits non-zero when any test fails.
//
//   node scripts/run-tests.mjs              every CPU test (*.test.js, not *.cuda.test.js)
//   node scripts/run-tests.mjs --cuda       the CUDA suite (*.cuda.test.js), on a GPU machine
//   node scripts/run-tests.mjs tokenizer    only files whose path contains "tokenizer"
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testRoot = join(root, 'dist', 'test');
const args = process.argv.slice(2);
const cuda = args.includes('--cuda');
const filters = args.filter((a) => !a.startsWith('--'));

if (!existsSync(testRoot)) {
  console.error(`no compiled tests at ${testRoot}: run "npm run build" first`);
  process.exit(2);
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = walk(testRoot)
  .filter((f) => (cuda ? f.endsWith('.cuda.test.js') : f.endsWith('.test.js') && !f.endsWith('.cuda.test.js')))
  .filter((f) => filters.length === 0 || filters.some((s) => relative(testRoot, f).includes(s)))
  .sort();

if (files.length === 0) {
  console.error('no test files matched');
  process.exit(2);
}

const child = spawn(process.execPath, ['--test', '--test-reporter=tap', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let pass = 0;
let fail = 0;
let skip = 0;
let tail = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const text = tail + chunk.toString('utf8');
  const lines = text.split('\n');
  tail = lines.pop() ?? '';
  for (const line of lines) count(line);
});
function count(line) {
  const m = /^# (pass|fail|skipped) (\d+)$/.exec(line.trim());
  if (!m) return;
  if (m[1] === 'pass') pass = Number(m[2]);
  else if (m[1] === 'fail') fail = Number(m[2]);
  else skip = Number(m[2]);
}
child.on('close', (code) => {
  if (tail) count(tail);
  console.log(`\ntests: ${pass} passed, ${fail} failed, ${skip} skipped`);
  process.exit(code === 0 && fail === 0 ? 0 : 1);
});
