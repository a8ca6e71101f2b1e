// `--quantization fp8` as a user runs it: a real `tramontane generate` process on a bf16
// fixture quantizes at load and gives the tokens of the same model loaded by the library with
// quantization 'fp8'; an FP8 checkpoint needs no flag; bad values are refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { LLM } from '../../src/engine/llm.js';
import { writeFp8Checkpoint } from '../helpers/fp8Checkpoint.js';
import { fixture, repoRoot } from '../helpers/paths.js';
import { readModelReference } from '../helpers/modelReference.js';
import { tempDir } from '../helpers/safetensors.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [main, 'generate', ...args], { encoding: 'utf8' });

test('generate --quantization fp8 equals LLM.create({ quantization: "fp8" }); an FP8 checkpoint loads without the flag and refuses it', async () => {
  const ref = readModelReference('tiny-a').prompts[0];
  const model = fixture('models', 'tiny-a', 'mistral');
  const r = run('--model', model, '--quantization', 'fp8', '--prompt-tokens', ref.tokenIds.join(','), '--max-tokens', '8', '--temperature', '0', '--json');
  assert.equal(r.status, 0, r.stderr);
  const llm = await LLM.create({ model, quantization: 'fp8', maxModelLen: 128, maxNumSeqs: 1, threads: 1, runnerThread: false });
  try {
    const [out] = await llm.generate([{ promptTokenIds: ref.tokenIds }], { temperature: 0, maxTokens: 8, ignoreEos: true });
    assert.deepEqual(JSON.parse(r.stdout).outputs[0].token_ids, out.outputs[0].tokenIds);
  } finally {
    await llm.close();
  }
  const { dir, cleanup } = await tempDir();
  try {
    const { fp8Dir } = await writeFp8Checkpoint('tiny-a', 'mistral-tensor', dir);
    const ok = run('--model', fp8Dir, '--prompt-tokens', ref.tokenIds.join(','), '--max-tokens', '2', '--temperature', '0');
    assert.equal(ok.status, 0, ok.stderr);
    const twice = run('--model', fp8Dir, '--quantization', 'fp8', '--prompt-tokens', '1,2', '--max-tokens', '1');
    assert.notEqual(twice.status, 0);
    assert.match(twice.stderr, /this checkpoint is already FP8: leave the option out/);
  } finally {
    await cleanup();
  }
  const bad = run('--quantization', 'int4', '--prompt-tokens', '1,2', '--max-tokens', '1');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--quantization must be one of fp8 \(got 'int4'\)/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});
