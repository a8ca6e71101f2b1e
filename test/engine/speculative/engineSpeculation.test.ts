// Speculative decoding in the engine, over the fake runner (it derives each token from the
// context it reads back through the block table, so a wrong rollback of numComputedTokens, a
// stale draft K/V slot or a wrong block table changes the output or throws).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine, type EngineOptions } from '../../../src/engine/engine.js';
import { resolveSamplingParams, type SamplingParamsInput } from '../../../src/engine/samplingParams.js';
import type { RequestOutput } from '../../../src/engine/outputs.js';
import { BlockManager } from '../../../src/engine/blockManager.js';
import { Scheduler } from '../../../src/engine/scheduler.js';
import { EngineRequest } from '../../../src/engine/request.js';
import { buildStep } from '../../../src/engine/batchBuilder.js';
import { Speculator } from '../../../src/engine/speculative/speculator.js';
import { ReplayProposer } from '../../../src/engine/speculative/replay.js';
import { NgramProposer } from '../../../src/engine/speculative/ngram.js';
import { FakeRunner } from '../../helpers/fakeRunner.js';
import { FakeTokenizer } from '../../helpers/fakeTokenizer.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const prompt = (rand: () => number, len: number) => Array.from({ length: len }, () => 3 + Math.floor(rand() * 26));

async function run(prompts: number[][], params: SamplingParamsInput[], options: EngineOptions = {}, runnerBlocks = 64): Promise<{ outs: RequestOutput[]; engine: Engine; runner: FakeRunner }> {
  const runner = new FakeRunner({ numBlocks: runnerBlocks, blockSize: 4, maxNumBatchedTokens: 32, maxNumSeqs: 8 });
  runner.keepBatches = true;
  const engine = new Engine(runner, new FakeTokenizer(), options);
  const outs = await Promise.all(prompts.map((p, i) => engine.result(engine.add({ promptTokenIds: p }, resolveSamplingParams(params[i])))));
  assert.equal(engine.blocks.numFreeBlocks, runnerBlocks, 'every block back in the pool');
  engine.blocks.checkInvariants();
  await engine.close();
  return { outs, engine, runner };
}

function recordings(prompts: number[][], outs: RequestOutput[]): Map<string, number[]> {
  return new Map(prompts.map((p, i) => [p.join(','), [...outs[i].outputs[0].tokenIds]]));
}

const strip = (o: RequestOutput) => o.outputs.map((c) => ({ ...c }));

test('with drafts accepted, partly rejected or all rejected, k 1..8, outputs equal those without speculation (greedy, seeded sampling, logprobs, n, min_tokens, penalties)', async () => {
  const rand = rng(7);
  const prompts = Array.from({ length: 6 }, (_, i) => prompt(rand, 3 + i * 5));
  const params: SamplingParamsInput[] = [
    { temperature: 0, ignoreEos: true, maxTokens: 17 },
    { temperature: 1, seed: 11, ignoreEos: true, maxTokens: 13, logprobs: 2 },
    { temperature: 0.7, topK: 5, topP: 0.9, seed: 5, maxTokens: 15, minTokens: 6 },
    { temperature: 0, ignoreEos: true, maxTokens: 9, repetitionPenalty: 1.3, presencePenalty: 0.5 },
    { temperature: 1, seed: 3, n: 2, ignoreEos: true, maxTokens: 11 },
    { temperature: 0, maxTokens: 20 },
  ];
  const plain = await run(prompts, params);
  const rec = recordings(prompts, plain.outs);
  for (const k of [1, 2, 3, 5, 8]) {
    for (const rate of [1, 0.6, 0]) {
      const speculator = new Speculator(new ReplayProposer(rec, rate, 64, k), k, false);
      const spec = await run(prompts, params, { speculator });
      spec.outs.forEach((o, i) => assert.deepEqual(strip(o), strip(plain.outs[i]), `k ${k}, accept rate ${rate}, prompt ${i}`));
      const st = speculator.stats;
      assert.ok(st.numDraftTokens > 0, 'drafts were verified');
      if (rate === 1) assert.ok(st.numAcceptedTokens > 0.6 * st.numDraftTokens, `k ${k}: ${st.numAcceptedTokens}/${st.numDraftTokens} accepted`);
      if (rate === 0) assert.equal(st.numAcceptedTokens, 0);
      assert.equal(st.acceptedPerPosition.reduce((a, b) => a + b, 0), st.numAcceptedTokens);
      for (let j = 1; j < k; j++) assert.ok(st.acceptedPerPosition[j] <= st.acceptedPerPosition[j - 1], 'acceptance per position never grows with the position');
      if (rate === 1 && k >= 3) assert.ok(spec.runner.batches.length < 0.75 * plain.runner.batches.length, `fewer steps (${spec.runner.batches.length} vs ${plain.runner.batches.length})`);
    }
  }
});

test('scripted replay (benchmarks): intact proposals are kept even where the target disagrees', async () => {
  const rand = rng(33);
  const p = prompt(rand, 9);
  const params: SamplingParamsInput = { temperature: 0, ignoreEos: true, maxTokens: 24 };
  const plain = await run([p], [params]);
  // A recording the target would never produce: every intact proposal differs from its token.
  const wrong = plain.outs[0].outputs[0].tokenIds.map((t) => 3 + ((t - 3 + 7) % 26));
  const rec = new Map([[p.join(','), wrong]]);
  const exact = new Speculator(new ReplayProposer(rec, 1, 64), 4, false);
  await run([p], [params], { speculator: exact });
  assert.equal(exact.stats.numAcceptedTokens, 0, 'without the script, exact match rejects them');
  const scripted = new Speculator(new ReplayProposer(rec, 1, 64, 1, true), 4, false);
  const spec = await run([p], [params], { speculator: scripted });
  assert.equal(scripted.stats.numAcceptedTokens, scripted.stats.numDraftTokens, 'every intact draft accepted');
  const ids = spec.outs[0].outputs[0].tokenIds;
  assert.equal(ids.length, 24);
  // Steps of 4 accepted drafts + 1 target token: positions 5i..5i+3 come from the recording.
  const fromRecording = ids.filter((t, i) => t === wrong[i]).length;
  assert.ok(fromRecording >= 18, `${fromRecording} of 24 tokens from the recording`);
  const half = new Speculator(new ReplayProposer(rec, 0.5, 64, 7, true), 4, false);
  await run([p], [params], { speculator: half });
  const rate = half.stats.numAcceptedTokens / half.stats.numDraftTokens;
  assert.ok(rate > 0.1 && rate < 0.9, `scripted acceptance ${rate} follows the intact fraction`);
});

test('stop strings, stop ids and max_tokens end a verify step where the plain run ends', async () => {
  const rand = rng(21);
  const p = prompt(rand, 7);
  const free = await run([p], [{ temperature: 0, ignoreEos: true, maxTokens: 30 }]);
  const ids = free.outs[0].outputs[0].tokenIds;
  const text = free.outs[0].outputs[0].text;
  const cases: SamplingParamsInput[] = [
    { temperature: 0, ignoreEos: true, maxTokens: 30, stop: [text.slice(9, 12)] },
    { temperature: 0, ignoreEos: true, maxTokens: 30, stop: [text.slice(4, 6)], includeStopStrInOutput: true },
    { temperature: 0, ignoreEos: true, maxTokens: 30, stopTokenIds: [ids[13]] },
    { temperature: 0, ignoreEos: true, maxTokens: 5 },
  ];
  const rec = recordings([p], free.outs);
  for (const c of cases) {
    const plain = await run([p], [c]);
    for (const k of [2, 4, 7]) {
      const spec = await run([p], [c], { speculator: new Speculator(new ReplayProposer(rec, 1, 64), k, false) });
      assert.deepEqual(strip(spec.outs[0]), strip(plain.outs[0]), `k ${k}, ${JSON.stringify(c)}`);
    }
  }
});

test('a batch mixing speculating sequences, sequences without drafts and prompt chunks matches the plain batch', async () => {
  const rand = rng(5);
  const prompts = Array.from({ length: 10 }, (_, i) => prompt(rand, 2 + ((i * 9) % 40)));
  const params = prompts.map((_, i) => ({ temperature: i % 2 ? 1 : 0, seed: i, ignoreEos: true, maxTokens: 6 + (i % 9) }));
  const plain = await run(prompts, params);
  // Only every other prompt has a recording: the others decode plainly beside the verifiers.
  const rec = recordings(prompts.filter((_, i) => i % 2 === 0), plain.outs.filter((_, i) => i % 2 === 0));
  const speculator = new Speculator(new ReplayProposer(rec, 0.7, 64), 4, false);
  const spec = await run(prompts, params, { speculator });
  spec.outs.forEach((o, i) => assert.deepEqual(strip(o), strip(plain.outs[i]), `prompt ${i}`));
  const mixed = spec.runner.batches.some((b) => b.queryLens.some((q) => q > 1 && q <= 5) && b.queryLens.some((q) => q === 1));
  assert.ok(mixed, 'verify rows and plain decode rows shared a step');
});

test('n-gram speculation: same outputs; with nothing accepted it backs off to rare verify steps', async () => {
  // Repetitive prompts give the lookup matches; the fake model's tokens rarely continue them.
  const rand = rng(9);
  const base = prompt(rand, 6);
  const prompts = [[...base, ...base, ...base], prompt(rand, 12), [...base, ...prompt(rand, 3), ...base]];
  const params = prompts.map(() => ({ temperature: 0, ignoreEos: true, maxTokens: 120 }));
  const plain = await run(prompts, params, {}, 256);
  const speculator = new Speculator(new NgramProposer(1, 3), 4, true);
  const spec = await run(prompts, params, { speculator }, 256);
  spec.outs.forEach((o, i) => assert.deepEqual(strip(o), strip(plain.outs[i]), `prompt ${i}`));
  const st = speculator.stats;
  const verifySteps = spec.runner.batches.filter((b) => b.queryLens.some((q, s) => q > 1 && b.positions[b.queryLens.slice(0, s).reduce((a, c) => a + c, 0)] >= prompts[s]?.length)).length;
  assert.ok(st.numDrafts > 0, 'the lookup proposed');
  const rate = st.numAcceptedTokens / st.numDraftTokens;
  if (rate < 0.1) assert.ok(st.numDrafts < 0.15 * 3 * 120, `backed off: ${st.numDrafts} proposals, ${verifySteps} verify steps`);
});

test('no KV leak with speculation under random adds, aborts (also mid-step) and preemption; outputs unchanged', async () => {
  const rand = rng(42);
  const prefixes = [prompt(rand, 9), prompt(rand, 13)];
  const specs = Array.from({ length: 40 }, () => {
    const tail = prompt(rand, 1 + Math.floor(rand() * 14));
    return { p: rand() < 0.5 ? [...prefixes[Math.floor(rand() * 2)], ...tail] : tail, max: 1 + Math.floor(rand() * 14) };
  });
  const params = (max: number) => resolveSamplingParams({ temperature: 0, ignoreEos: true, maxTokens: max });
  const plain = await run(specs.map((s) => s.p), specs.map((s) => ({ temperature: 0, ignoreEos: true, maxTokens: s.max })), {}, 256);
  const rec = recordings(specs.map((s) => s.p), plain.outs);
  const runner = new FakeRunner({ numBlocks: 16, blockSize: 4, maxNumBatchedTokens: 14, maxNumSeqs: 6 });
  const blocks = new BlockManager(16, 4);
  const scheduler = new Scheduler(blocks, { maxNumSeqs: 6, maxNumBatchedTokens: 14, maxModelLen: 256, eosTokenId: 2 });
  const speculator = new Speculator(new ReplayProposer(rec, 0.5, 64, 3), 5, false);
  const reqs: EngineRequest[] = [];
  const aborted = new Set<string>();
  let preemptions = 0;
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
      await speculator.prepare(scheduler.runningRequests);
      const plan = scheduler.schedule();
      preemptions += plan.preempted.length;
      assert.ok(plan.numBatchedTokens <= 14, 'the token budget counts the draft tokens');
      blocks.checkInvariants();
      if (plan.seqs.length > 0) {
        const built = buildStep(plan, blocks, 2);
        const pending = runner.execute(built.batch, built.sampling);
        if (rand() < 0.05 && reqs.length > 0) abortOne();
        speculator.observe(plan, scheduler.update(plan, await pending));
      }
      for (const req of scheduler.runningRequests) {
        // Blocks held never exceed what the known tokens need: rejected drafts' blocks went back.
        assert.ok(blocks.blockTable(req.id).length <= blocks.blocksFor(req.numTokens), `request ${req.id} holds blocks past its tokens`);
      }
    }
    blocks.checkInvariants();
  }
  assert.equal(blocks.numFreeBlocks, 16, 'every block back in the pool');
  assert.ok(preemptions > 0, 'the small pool forced preemption');
  assert.ok(speculator.stats.numAcceptedTokens > 0 && speculator.stats.numAcceptedTokens < speculator.stats.numDraftTokens, 'both acceptance and rejection happened');
  let checked = 0;
  reqs.forEach((req, i) => {
    if (aborted.has(req.id) && req.finishReason === 'abort') return;
    assert.deepEqual(req.outputTokenIds, plain.outs[i].outputs[0].tokenIds, `request ${i}`);
    checked++;
  });
  assert.ok(checked > 10, `${checked} requests compared`);
});
