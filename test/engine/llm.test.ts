// The offline API on real tiny checkpoints: the engine (batched, chunked, prefix-cached) gives
// transformers' greedy continuations and top-k logprobs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LLM } from '../../src/engine/llm.js';
import { findImageSpans, type PreparedImage, type TokensPrompt } from '../../src/engine/promptInput.js';
import { readModelReference, type ReferencePrompt } from '../helpers/modelReference.js';
import { fixture } from '../helpers/paths.js';

const ref = readModelReference('tiny-a');
const IMG = { img: 10, imgBreak: 12, imgEnd: 13 };

function tokensPrompt(p: ReferencePrompt): TokensPrompt {
  const spans = findImageSpans(p.tokenIds, IMG);
  const image: PreparedImage[] = p.images.map((img, k) => ({ ...img, tokens: p.tokenIds.slice(spans[k].start, spans[k].start + spans[k].length) }));
  return { promptTokenIds: p.tokenIds, multiModalData: { image } };
}

let llm: LLM;
before(async () => {
  llm = await LLM.create({ model: fixture('models', 'tiny-a', 'mistral'), maxModelLen: 128, maxNumSeqs: 8, maxNumBatchedTokens: 7, threads: 1 });
});
after(async () => {
  await llm.close();
});

test('batched, chunked (7 tokens a step, image spans split) greedy generation matches transformers', async () => {
  const outs = await llm.generate(
    ref.prompts.map(tokensPrompt),
    { temperature: 0, maxTokens: 16, ignoreEos: true, logprobs: 5, promptLogprobs: 5 },
  );
  outs.forEach((out, i) => {
    const p = ref.prompts[i];
    assert.deepEqual(out.outputs[0].tokenIds, p.greedy, p.name);
    assert.deepEqual(out.promptTokenIds, p.tokenIds);
    const n = p.tokenIds.length;
    // Prompt logprobs: position j is predicted by row j - 1.
    for (let j = 1; j < n; j++) {
      const pos = out.promptLogprobs![j]!;
      assert.equal(pos[0].tokenId, p.tokenIds[j]);
      const top = [...pos].sort((a, b) => a.rank - b.rank).slice(0, 5);
      assert.deepEqual(top.map((e) => e.tokenId), p.topIds[j - 1], `${p.name} prompt position ${j}`);
      top.forEach((e, k) => assert.ok(Math.abs(e.logprob - p.topLogprobs[j - 1][k]) < 1e-3));
    }
    out.outputs[0].logprobs!.forEach((pos, k) => {
      const top = [...pos].sort((a, b) => a.rank - b.rank).slice(0, 5);
      assert.deepEqual(top.map((e) => e.tokenId), p.topIds[n - 1 + k], `${p.name} output ${k}`);
    });
  });
  assert.equal(llm.engine.blocks.numFreeBlocks, llm.engine.blocks.numBlocks);
});

test('a repeated prompt hits the prefix cache and gives the same tokens; streaming grows to the same output', async () => {
  const p = ref.prompts.find((x) => x.name === 'two-images')!;
  const hitsBefore = llm.engine.blocks.stats.hits;
  const [out] = await llm.generate(tokensPrompt(p), { temperature: 0, maxTokens: 16, ignoreEos: true });
  assert.deepEqual(out.outputs[0].tokenIds, p.greedy);
  assert.ok(out.numCachedTokens >= 16 && llm.engine.blocks.stats.hits > hitsBefore, 'full prompt blocks reused');
  let prev = '';
  let last = null;
  for await (const partial of llm.generateStream(tokensPrompt(p), { temperature: 0, maxTokens: 16, ignoreEos: true })) {
    assert.ok(partial.outputs[0].text.startsWith(prev));
    prev = partial.outputs[0].text;
    last = partial;
  }
  assert.equal(last?.finished, true);
  assert.deepEqual(last?.outputs[0].tokenIds, p.greedy);
  assert.equal(prev, out.outputs[0].text);
});

test('leaving a stream early aborts the request and frees its blocks', async () => {
  const p = ref.prompts[0];
  let seen = 0;
  for await (const partial of llm.generateStream(tokensPrompt(p), { temperature: 0, maxTokens: 100, ignoreEos: true })) {
    if (partial.outputs[0].tokenIds.length >= 2 && ++seen) break;
  }
  assert.equal(llm.engine.numUnfinished, 0);
  assert.equal(llm.engine.blocks.numFreeBlocks, llm.engine.blocks.numBlocks);
});

test('images must match the [IMG] spans', async () => {
  const p = ref.prompts.find((x) => x.name === 'two-images')!;
  const full = tokensPrompt(p);
  const images = full.multiModalData!.image as PreparedImage[];
  await assert.rejects(llm.generate({ promptTokenIds: p.tokenIds, multiModalData: { image: [images[0]] } }), /2 image placeholder span\(s\) but 1 image\(s\)/);
  await assert.rejects(llm.generate({ promptTokenIds: p.tokenIds, multiModalData: { image: [images[1], images[0]] } }), /image 0 needs a span of/);
  await assert.rejects(llm.generate({ promptTokenIds: [...p.tokenIds.slice(0, 5), 10, 10, 3] }), /not ended by \[IMG_END\]/);
  await assert.rejects(llm.generate('x', { temperature: -1 }), /temperature must be non-negative/);
});

test('the embedded model: string prompts get BOS; encodeUserContent as in the model card; cuda is refused', async () => {
  const tiny = await LLM.create({ maxModelLen: 256, maxNumSeqs: 4, threads: 1 });
  try {
    const [a, b] = await tiny.generate(['Hello', 'Bonjour'], { temperature: 0, maxTokens: 5, ignoreEos: true });
    assert.equal(a.promptTokenIds[0], 1);
    assert.equal(a.prompt, 'Hello');
    assert.equal(b.prompt, 'Bonjour');
    assert.equal(a.outputs[0].tokenIds.length, 5);
    const tokenizer = tiny.getTokenizer();
    const { tokens, images } = await tokenizer.encodeUserContent([
      { type: 'image_url', imageUrl: fixture('image', 'inputs', 'gradient_rgb.png') },
      { type: 'text', text: 'Describe the picture.' },
    ]);
    assert.equal(images.length, 1);
    assert.equal(tokens[0], 10, 'image tokens first, no BOS');
    assert.deepEqual(tokens.slice(images[0].tokens.length), tokenizer.encode('Describe the picture.', { bos: false, eos: false }));
    const [out] = await tiny.generate({ promptTokenIds: tokens, multiModalData: { image: images } }, { temperature: 0, maxTokens: 4 });
    assert.ok(out.outputs[0].tokenIds.length >= 1);
    // The same image given as a path is loaded by the engine and fills the same span.
    const [again] = await tiny.generate({ promptTokenIds: tokens, multiModalData: { image: fixture('image', 'inputs', 'gradient_rgb.png') } }, { temperature: 0, maxTokens: 4 });
    assert.deepEqual(again.outputs[0].tokenIds, out.outputs[0].tokenIds);
  } finally {
    await tiny.close();
  }
  await assert.rejects(LLM.create({ device: 'cuda' }), /CUDA backend not available/);
  await assert.rejects(LLM.create({ device: 'tpu' }), /unknown device 'tpu'/);
});
