import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type EngineInput } from '../../src/engine/engine.js';
import { resolveSamplingParams, type SamplingParamsInput } from '../../src/engine/samplingParams.js';
import type { RequestOutput } from '../../src/engine/outputs.js';
import { BlockManager } from '../../src/engine/blockManager.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import { EngineRequest } from '../../src/engine/request.js';
import { buildStep } from '../../src/engine/batchBuilder.js';
import { FakeRunner, type FakeRunnerOptions } from '../helpers/fakeRunner.js';
import { FakeTokenizer } from '../helpers/fakeTokenizer.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function makeEngine(o: Partial<FakeRunnerOptions> = {}, engineOptions = {}): { engine: Engine; runner: FakeRunner } {
  const runner = new FakeRunner({ numBlocks: 64, blockSize: 4, ...o });
  return { engine: new Engine(runner, new FakeTokenizer(), engineOptions), runner };
}

function prompt(rand: () => number, len: number): number[] {
  return Array.from({ length: len }, () => 3 + Math.floor(rand() * 26));
}

async function generate(engine: Engine, input: EngineInput, params: SamplingParamsInput): Promise<RequestOutput> {
  return engine.result(engine.add(input, resolveSamplingParams(params)));
}

const greedy = { temperature: 0, ignoreEos: true };

test('greedy output of a request does not depend on what it is batched with', async () => {
  const rand = rng(1);
  const prompts = Array.from({ length: 12 }, (_, i) => prompt(rand, 1 + ((i * 7) % 30)));
  const alone: RequestOutput[] = [];
  for (const p of prompts) {
    const { engine } = makeEngine();
    alone.push(await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 5 + (p.length % 7) }));
    await engine.close();
  }
  const { engine, runner } = makeEngine({ maxNumBatchedTokens: 16, maxNumSeqs: 5 });
  runner.keepBatches = true;
  const together = await Promise.all(prompts.map((p) => generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 5 + (p.length % 7) })));
  together.forEach((out, i) => {
    assert.deepEqual(out.outputs[0].tokenIds, alone[i].outputs[0].tokenIds, `prompt ${i}`);
    assert.equal(out.outputs[0].text, alone[i].outputs[0].text);
    assert.equal(out.outputs[0].finishReason, 'length');
  });
  assert.ok(runner.batches.some((b) => b.queryLens.some((q) => q > 1) && b.queryLens.some((q) => q === 1)), 'prefill chunks and decodes shared a step');
  assert.equal(engine.blocks.numFreeBlocks, 64);
  engine.blocks.checkInvariants();
  await engine.close();
});

test('random add / step / abort with a pool small enough to preempt: no leak, budgets kept, outputs unchanged', async () => {
  const rand = rng(42);
  // Half the prompts start with one of three shared prefixes, so prefix hits, preemption and
  // aborts interleave.
  const prefixes = [prompt(rand, 9), prompt(rand, 13), prompt(rand, 4)];
  const specs = Array.from({ length: 40 }, () => {
    const tail = prompt(rand, 1 + Math.floor(rand() * 14));
    const p = rand() < 0.5 ? [...prefixes[Math.floor(rand() * 3)], ...tail] : tail;
    return { p, max: 1 + Math.floor(rand() * 12) };
  });
  const params = (max: number) => resolveSamplingParams({ ...greedy, maxTokens: max });
  const expected: number[][] = [];
  for (const s of specs) {
    const { engine } = makeEngine({ numBlocks: 64 });
    expected.push([...(await engine.result(engine.add({ promptTokenIds: s.p }, params(s.max)))).outputs[0].tokenIds]);
    await engine.close();
  }
  // The scheduler driven by hand, so aborts can land between schedule and update.
  const runner = new FakeRunner({ numBlocks: 14, blockSize: 4, maxNumBatchedTokens: 12, maxNumSeqs: 6 });
  const blocks = new BlockManager(14, 4);
  const scheduler = new Scheduler(blocks, { maxNumSeqs: 6, maxNumBatchedTokens: 12, maxModelLen: 256, eosTokenId: 2 });
  const reqs: EngineRequest[] = [];
  const aborted = new Set<string>();
  let preemptions = 0;
  let steps = 0;
  const abortOne = () => {
    const r = reqs[Math.floor(rand() * reqs.length)];
    scheduler.finish(r.id, 'abort');
    aborted.add(r.id);
  };
  while (reqs.length < specs.length || scheduler.hasUnfinished()) {
    const r = rand();
    if (reqs.length < specs.length && r < 0.3) {
      const i = reqs.length;
      const req = new EngineRequest(`q${i}`, specs[i].p, [], params(specs[i].max), 0);
      reqs.push(req);
      scheduler.add(req);
    } else if (r < 0.33 && reqs.length > 0) {
      abortOne();
    } else {
      const plan = scheduler.schedule();
      preemptions += plan.preempted.length;
      assert.ok(plan.numBatchedTokens <= 12, 'token budget');
      assert.ok(plan.seqs.length <= 6 && scheduler.numRunning <= 6, 'sequence budget');
      blocks.checkInvariants();
      if (plan.seqs.length > 0) {
        const built = buildStep(plan, blocks, 2);
        const pending = runner.execute(built.batch, built.sampling);
        if (rand() < 0.05 && reqs.length > 0) abortOne(); // mid-step
        scheduler.update(plan, await pending);
      }
      steps++;
    }
    blocks.checkInvariants();
  }
  assert.equal(blocks.numFreeBlocks, 14, 'every block back in the pool');
  assert.ok(preemptions > 0, `the small pool forced preemption (${steps} steps)`);
  assert.ok(blocks.stats.hits > 0, 'shared prefixes were served from the cache');
  let checked = 0;
  reqs.forEach((req, i) => {
    if (aborted.has(req.id) && req.finishReason === 'abort') return;
    assert.equal(req.finishReason, 'length');
    assert.deepEqual(req.outputTokenIds, expected[i], `request ${i}`);
    checked++;
  });
  assert.ok(checked > 10, `${checked} requests compared`);
});

test('a repeated prompt is served from the prefix cache and gives the same output', async () => {
  const { engine } = makeEngine();
  const p = prompt(rng(3), 19);
  const a = await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 6 });
  const b = await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 6 });
  assert.equal(a.numCachedTokens, 0);
  assert.equal(b.numCachedTokens, 16, 'four full blocks of 19 tokens');
  assert.deepEqual(b.outputs[0].tokenIds, a.outputs[0].tokenIds);
  // A prompt that extends the first one's prompt + output also hits.
  const c = await generate(engine, { promptTokenIds: [...p, ...a.outputs[0].tokenIds, 5] }, { ...greedy, maxTokens: 2 });
  assert.equal(c.numCachedTokens, 24);
  assert.ok(engine.blocks.stats.hits >= 40);
  await engine.close();
});

test('images take part in the prefix hash and in chunked prefill spans', async () => {
  const p = prompt(rng(4), 30);
  for (let i = 5; i < 20; i++) p[i] = 10;
  const pix = (v: number): Float32Array => new Float32Array(3 * 28 * 28).map((_, i) => ((i * v) % 97) / 97);
  const img = (v: number) => [{ pixels: pix(v), height: 28, width: 28, spanStart: 5, spanLength: 15 }];
  const whole = makeEngine({ maxNumBatchedTokens: 64 }).engine;
  const ref = await generate(whole, { promptTokenIds: p, images: img(3) }, { ...greedy, maxTokens: 4 });
  const other = await generate(whole, { promptTokenIds: p, images: img(5) }, { ...greedy, maxTokens: 4 });
  assert.equal(other.numCachedTokens, 4, 'only the block before the image is shared');
  assert.notDeepEqual(other.outputs[0].tokenIds, ref.outputs[0].tokenIds);
  const chunked = makeEngine({ maxNumBatchedTokens: 7 }).engine;
  const out = await generate(chunked, { promptTokenIds: p, images: img(3) }, { ...greedy, maxTokens: 4 });
  assert.deepEqual(out.outputs[0].tokenIds, ref.outputs[0].tokenIds, 'the image span split over chunks');
  await whole.close();
  await chunked.close();
});

test('n > 1: children share the prompt blocks, seeded children are reproducible', async () => {
  const { engine } = makeEngine();
  const p = prompt(rng(5), 17);
  const params = { n: 3, temperature: 0.8, seed: 11, maxTokens: 8, ignoreEos: true };
  const a = await generate(engine, { promptTokenIds: p }, params);
  assert.equal(a.outputs.length, 3);
  assert.deepEqual(a.outputs.map((o) => o.index), [0, 1, 2]);
  assert.notDeepEqual(a.outputs[0].tokenIds, a.outputs[1].tokenIds);
  assert.ok(engine.blocks.stats.hits >= 2 * 16, 'children 1 and 2 reused the 4 full prompt blocks');
  const { engine: fresh } = makeEngine();
  const b = await generate(fresh, { promptTokenIds: p }, params);
  assert.deepEqual(b.outputs.map((o) => o.tokenIds), a.outputs.map((o) => o.tokenIds));
  assert.equal(engine.blocks.numFreeBlocks, 64);
  await engine.close();
  await fresh.close();
});

test('stop strings split across tokens end the text before them (or through them)', async () => {
  const { engine } = makeEngine();
  const p = prompt(rng(6), 9);
  const free = await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 20 });
  const text = free.outputs[0].text;
  const stop = text.slice(6, 9);
  const at = text.indexOf(stop);
  const cut = await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 20, stop: [stop, 'zzzzzzzz'] });
  assert.equal(cut.outputs[0].text, text.slice(0, at));
  assert.equal(cut.outputs[0].finishReason, 'stop');
  assert.equal(cut.outputs[0].stopReason, stop);
  assert.equal(cut.outputs[0].tokenIds.length, at + 3, 'generation ended on the token completing the stop string');
  const kept = await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 20, stop, includeStopStrInOutput: true });
  assert.equal(kept.outputs[0].text, text.slice(0, at + 3));
  assert.equal(engine.blocks.numFreeBlocks, 64);
  await engine.close();
});

test('streamed text never shows part of a stop string and concatenates to the final text', async () => {
  const { engine } = makeEngine();
  const p = prompt(rng(6), 9);
  const free = await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 20 });
  const stop = free.outputs[0].text.slice(10, 14);
  const state = engine.add({ promptTokenIds: p }, resolveSamplingParams({ ...greedy, maxTokens: 20, stop }));
  let prev = '';
  let last: RequestOutput | null = null;
  for await (const out of state.stream()) {
    const t = out.outputs[0].text;
    assert.ok(t.startsWith(prev), 'streamed text only grows');
    assert.ok(!t.includes(stop.slice(0, 2)) || free.outputs[0].text.indexOf(stop.slice(0, 2)) < free.outputs[0].text.indexOf(stop));
    prev = t;
    last = out;
  }
  assert.equal(last?.finished, true);
  assert.equal(prev, free.outputs[0].text.slice(0, free.outputs[0].text.indexOf(stop)));
  await engine.close();
});

test('EOS, stop token ids, minTokens and maxTokens', async () => {
  const { engine } = makeEngine();
  const rand = rng(8);
  let sawEos = false;
  for (let i = 0; i < 20; i++) {
    const p = prompt(rand, 5);
    const out = await generate(engine, { promptTokenIds: p }, { temperature: 0, maxTokens: 30 });
    const ids = out.outputs[0].tokenIds;
    if (ids[ids.length - 1] === 2) {
      sawEos = true;
      assert.equal(out.outputs[0].finishReason, 'stop');
      assert.equal(out.outputs[0].stopReason, null);
      const longer = await generate(engine, { promptTokenIds: p }, { temperature: 0, maxTokens: 40, minTokens: ids.length + 2 });
      assert.ok(longer.outputs[0].tokenIds.length >= ids.length + 2, 'EOS banned under minTokens');
      assert.ok(!longer.outputs[0].tokenIds.slice(0, ids.length + 2).includes(2));
      const ignoring = await generate(engine, { promptTokenIds: p }, { temperature: 0, maxTokens: 30, ignoreEos: true });
      assert.equal(ignoring.outputs[0].tokenIds.length, 30);
    } else assert.equal(out.outputs[0].finishReason, 'length');
    const stopId = ids[1];
    const byId = await generate(engine, { promptTokenIds: p }, { temperature: 0, maxTokens: 30, ignoreEos: true, stopTokenIds: [stopId] });
    assert.deepEqual(byId.outputs[0].tokenIds, ids.slice(0, ids.indexOf(stopId) + 1));
    assert.equal(byId.outputs[0].stopReason, stopId);
  }
  assert.ok(sawEos, 'some prompt ended in EOS');
  await engine.close();
});

test('logprobs and prompt logprobs, also across prefill chunks', async () => {
  const p = prompt(rng(9), 23);
  const run = async (budget: number) => {
    const { engine } = makeEngine({ maxNumBatchedTokens: budget });
    const out = await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 4, logprobs: 3, promptLogprobs: 2 });
    await engine.close();
    return out;
  };
  const a = await run(64);
  const b = await run(5);
  assert.equal(a.promptLogprobs?.length, 23);
  assert.equal(a.promptLogprobs?.[0], null);
  assert.deepEqual(b.promptLogprobs, a.promptLogprobs);
  for (let i = 1; i < 23; i++) assert.equal(a.promptLogprobs?.[i]?.[0].tokenId, p[i]);
  const o = a.outputs[0];
  assert.equal(o.logprobs?.length, 4);
  o.logprobs?.forEach((pos, i) => {
    assert.equal(pos[0].tokenId, o.tokenIds[i]);
    assert.ok(pos.length >= 3 && pos.length <= 4);
  });
  const sum = o.logprobs!.reduce((s, pos) => s + pos[0].logprob, 0);
  assert.ok(Math.abs((o.cumulativeLogprob ?? NaN) - sum) < 1e-9);
  const plain = await (async () => {
    const { engine } = makeEngine();
    const out = await generate(engine, { promptTokenIds: p }, { ...greedy, maxTokens: 4 });
    await engine.close();
    return out;
  })();
  assert.equal(plain.outputs[0].logprobs, null);
  assert.equal(plain.outputs[0].cumulativeLogprob, null);
  assert.equal(plain.promptLogprobs, null);
});

test('abort while waiting or mid-step frees the blocks; a runner failure fails only its requests', async () => {
  const { engine, runner } = makeEngine({ numBlocks: 16 });
  const rand = rng(10);
  const states = Array.from({ length: 6 }, (_, i) => engine.add({ promptTokenIds: prompt(rand, 10) }, resolveSamplingParams({ ...greedy, maxTokens: 200 }), `a${i}`));
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 6; i++) engine.abort(`a${i}`);
  for (const s of states) {
    const out = await engine.result(s);
    assert.equal(out.outputs[0].finishReason, 'abort');
  }
  assert.equal(engine.blocks.numFreeBlocks, 16);
  runner.failNext = new Error('device lost');
  await assert.rejects(generate(engine, { promptTokenIds: [5, 6, 7] }, greedy), /device lost/);
  const after = await generate(engine, { promptTokenIds: [5, 6, 7] }, { ...greedy, maxTokens: 3 });
  assert.equal(after.outputs[0].tokenIds.length, 3);
  assert.equal(engine.blocks.numFreeBlocks, 16);
  await engine.close();
  assert.ok(runner.closed);
});

test('bad requests are refused naming the problem', async () => {
  const { engine } = makeEngine({ maxModelLen: 20, numBlocks: 64 });
  assert.throws(() => engine.add({ promptTokenIds: [] }, resolveSamplingParams()), /at least one token/);
  assert.throws(() => engine.add({ promptTokenIds: [3, 99] }, resolveSamplingParams()), /token id 99 is outside the vocabulary of 64/);
  assert.throws(() => engine.add({ promptTokenIds: new Array(21).fill(3) }, resolveSamplingParams()), /21 tokens long, more than the maximum context length of 20/);
  // maxTokens is capped by the context: a 15-token prompt ends with 'length' after 5 tokens.
  const out = await generate(engine, { promptTokenIds: new Array(15).fill(3) }, { ...greedy, maxTokens: 100 });
  assert.equal(out.outputs[0].tokenIds.length, 5);
  assert.equal(out.outputs[0].finishReason, 'length');
  await engine.close();
});
