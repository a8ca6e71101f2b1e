// `tramontane generate` as a user runs it: a real process, real checkpoints (the embedded
// default and the reference fixtures), output and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture, repoRoot } from '../helpers/paths.js';
import { readModelReference } from '../helpers/modelReference.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [main, 'generate', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fails(args: string[], message: RegExp): void {
  const r = run(...args);
  assert.notEqual(r.code, 0, `expected failure for ${args.join(' ')}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('greedy tokens from the CLI equal transformers (Mistral layout) and --json has the RequestOutput shape', () => {
  const ref = readModelReference('tiny-a').prompts[0];
  const r = run('--model', fixture('models', 'tiny-a', 'mistral'), '--prompt-tokens', ref.tokenIds.join(','), '--max-tokens', '16',
    '--temperature', '0', '--logprobs', '2', '--prompt-logprobs', '1', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.prompt_token_ids, ref.tokenIds);
  assert.deepEqual(out.outputs[0].token_ids, ref.greedy);
  assert.equal(out.outputs[0].finish_reason, 'length');
  assert.equal(out.prompt_logprobs[0], null);
  assert.equal(out.prompt_logprobs.length, ref.tokenIds.length);
  // Position 1's map holds the top-1 alternative and the actual token.
  const pos1 = out.prompt_logprobs[1];
  assert.ok(pos1[String(ref.tokenIds[1])]);
  assert.ok(pos1[String(ref.topIds[0][0])]);
  assert.equal(pos1[String(ref.topIds[0][0])].rank, 1);
  assert.equal(out.outputs[0].logprobs.length, 16);
  assert.equal(typeof out.outputs[0].text, 'string');
});

test('the embedded default model streams text and stops at max tokens; seeded sampling is reproducible', () => {
  const a = run('--prompt-tokens', '1,1100,1200', '--max-tokens', '5', '--seed', '3', '--temperature', '0.8', '--top-k', '50', '--top-p', '0.9', '--json');
  const b = run('--prompt-tokens', '1,1100,1200', '--max-tokens', '5', '--seed', '3', '--temperature', '0.8', '--top-k', '50', '--top-p', '0.9', '--json');
  assert.equal(a.code, 0, a.stderr);
  assert.deepEqual(JSON.parse(a.stdout).outputs[0].token_ids, JSON.parse(b.stdout).outputs[0].token_ids);
  const streamed = run('--prompt-tokens', '1,1100,1200', '--max-tokens', '5', '--seed', '3', '--temperature', '0.8', '--top-k', '50', '--top-p', '0.9');
  assert.equal(streamed.code, 0);
  assert.equal(streamed.stdout, JSON.parse(a.stdout).outputs[0].text + '\n');
});

test('bad inputs: clear errors and a non-zero exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tramontane-generate-'));
  try {
    fails(['--model', join(dir, 'nope'), '--prompt-tokens', '1'], /does not exist/);
    fails(['--model', dir, '--prompt-tokens', '1'], /config|params/);
    const broken = join(dir, 'broken');
    cpSync(fixture('models', 'tiny-a', 'hf'), broken, { recursive: true });
    rmSync(join(broken, 'model-00002-of-00004.safetensors'));
    fails(['--model', broken, '--prompt-tokens', '1', '--tokenizer', fixture('models', 'tiny-a', 'mistral', 'tekken.json')], /model-00002-of-00004/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  fails(['--prompt-tokens', '1,5', '--image', 'a.png'], /0 image token run\(s\).*1 --image/);
  fails(['--prompt-tokens', Array.from({ length: 12 }, () => '5').join(','), '--max-model-len', '10'], /12 tokens.*10/);
  fails(['--prompt-tokens', '1,5', '--max-tokens', '0'], /--max-tokens must be at least 1/);
  fails(['--prompt-tokens', '1,5', '--max-tokens=-3'], /--max-tokens must be at least 1/);
  fails(['--prompt-tokens', '1,5', '--frobnicate'], /Unknown option '--frobnicate'/);
  fails(['--prompt-tokens', '1,x'], /--prompt-tokens must be comma-separated/);
  fails(['--prompt-tokens', '1,999999'], /outside the vocabulary/);
  fails([], /exactly one of --prompt and --prompt-tokens/);
});

test('--device and --load-format: dummy weights on the cpu run; bad values are clear errors', () => {
  const ok = run('--prompt-tokens', '1,1100,1200', '--max-tokens', '3', '--temperature', '0', '--load-format', 'dummy', '--device', 'cpu', '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).outputs[0].token_ids.length, 3);
  fails(['--prompt-tokens', '1', '--device', 'tpu'], /--device must be one of cpu, cuda \(got 'tpu'\)/);
  fails(['--prompt-tokens', '1', '--load-format', 'pt'], /--load-format must be one of auto, dummy \(got 'pt'\)/);
  fails(['--prompt-tokens', '1', '--model', 'mistral-small-3.1-24b'], /built-in config without weights: use --load-format dummy/);
});
