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
  fails(['--prompt-tokens', '1,5', '--max-tokens', '0'], /--max-tokens must be >= 1 \(got 0\)/);
  fails(['--prompt-tokens', '1,5', '--max-tokens=-3'], /--max-tokens must be >= 1 \(got -3\)/);
  fails(['--prompt-tokens', '1,5', '--temperature', '-1'], /--temperature must be >= 0 \(got -1\)/);
  fails(['--prompt-tokens', '1,5', '--frobnicate'], /unknown option '--frobnicate'/);
  fails(['--prompt-tokens', '1,5', '--max-token', '3'], /unknown option '--max-token' \(did you mean --max-tokens\?\)/);
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

test('--prompt is BOS then the Tekken ids of the text; with --image, image tokens then the text and no BOS', async () => {
  const { Tekkenizer } = await import('../../src/tokenizer/index.js');
  const { ImageEncoder } = await import('../../src/image/index.js');
  const dir = fixture('models', 'tiny-a', 'mistral');
  const tokenizer = Tekkenizer.fromFile(join(dir, 'tekken.json'));
  const text = 'The image shows a';
  const textIds = tokenizer.encode(text, { bos: false, eos: false });
  assert.ok(textIds.length > 1);

  const plain = run('--model', dir, '--prompt', text, '--max-tokens', '3', '--temperature', '0', '--json');
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(JSON.parse(plain.stdout).prompt_token_ids, [tokenizer.bosId, ...textIds]);

  // The model card's base-model example: encode_user_content([image, text]).
  const image = fixture('image', 'inputs', 'gradient_rgb.png'); // 64x48 -> 3x2 tokens of 28 px
  const encoded = await ImageEncoder.fromTekkenImageConfig({ image_patch_size: 14, max_image_size: 1540, spatial_merge_size: 2 }).encode(image);
  assert.deepEqual([encoded.widthTokens, encoded.heightTokens], [3, 2]);
  const withImage = run('--model', dir, '--prompt', text, '--image', image, '--max-tokens', '4', '--temperature', '0', '--json');
  assert.equal(withImage.code, 0, withImage.stderr);
  const out = JSON.parse(withImage.stdout);
  assert.deepEqual(out.prompt_token_ids, [...encoded.tokens, ...textIds]);

  // The same ids given as tokens, with the same image filling the run, give the same greedy tokens.
  const asTokens = run('--model', dir, '--prompt-tokens', out.prompt_token_ids.join(','), '--image', image, '--max-tokens', '4', '--temperature', '0', '--json');
  assert.equal(asTokens.code, 0, asTokens.stderr);
  assert.deepEqual(JSON.parse(asTokens.stdout).outputs[0].token_ids, out.outputs[0].token_ids);
});

test('an --image that does not decode is a clear error naming the file', () => {
  const bad = fixture('image', 'inputs', 'not_an_image.png');
  fails(['--model', fixture('models', 'tiny-a', 'mistral'), '--prompt', 'x', '--image', bad], /not_an_image\.png/);
  fails(['--model', fixture('models', 'tiny-a', 'mistral'), '--prompt', 'x', '--image', '/nonexistent/picture.png'], /picture\.png/);
});
