// The scheduler's promises, beside the block manager's: a step never exceeds maxNumSeqs or
// maxNumBatchedTokens, nor schedules past a sequence's known tokens or outside its blocks;
// running sequences go first and waiting ones are admitted first come, first served; when the
// pool runs dry the latest running sequence is preempted first and resumes ahead of newcomers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockManager } from '../../src/engine/blockManager.js';
import { EngineRequest } from '../../src/engine/request.js';
import { resolveSamplingParams } from '../../src/engine/samplingParams.js';
import { Scheduler, type StepPlan } from '../../src/engine/scheduler.js';
import type { StepOutput } from '../../src/model/sampling.js';

const EOS = 2;
const TOKEN = 7; // what the fake model always samples (never EOS)

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function request(id: string, promptLen: number, maxTokens: number, firstToken = 100): EngineRequest {
  const prompt = Array.from({ length: promptLen }, (_, i) => firstToken + i);
  return new EngineRequest(id, prompt, [], resolveSamplingParams({ maxTokens }), 0);
}

/** What the model returns for a plan: a token for every sequence that samples. */
function output(plan: StepPlan): StepOutput {
  return {
    sampled: plan.seqs.map((s) => (s.sample ? { tokenId: TOKEN, logprobs: null } : null)),
    promptLogprobs: plan.seqs.map(() => null),
  };
}

function ids(plan: StepPlan): string[] {
  return plan.seqs.map((s) => s.request.id);
}

test('scheduler: random workloads never exceed the step budgets and every request finishes', () => {
  for (let trial = 0; trial < 60; trial++) {
    const r = rng(trial + 1);
    const blockSize = 1 + Math.floor(r() * 8);
    const maxModelLen = 64;
    const maxNumSeqs = 1 + Math.floor(r() * 6);
    const maxNumBatchedTokens = 1 + Math.floor(r() * 48);
    // At least one full-length sequence fits, so progress is always possible.
    const numBlocks = Math.ceil(maxModelLen / blockSize) + Math.floor(r() * 24);
    const blocks = new BlockManager(numBlocks, blockSize, r() < 0.5);
    const sched = new Scheduler(blocks, { maxNumSeqs, maxNumBatchedTokens, maxModelLen, eosTokenId: EOS });
    const all: EngineRequest[] = [];
    const arrivals = 4 + Math.floor(r() * 10);
    let steps = 0;
    while (all.length < arrivals || sched.hasUnfinished()) {
      if (all.length < arrivals && r() < 0.4) {
        const promptLen = 1 + Math.floor(r() * 40);
        // Shared prefixes exercise the prefix cache.
        const req = request(`r${all.length}`, promptLen, 1 + Math.floor(r() * Math.min(20, maxModelLen - promptLen)), r() < 0.5 ? 100 : 1000 * all.length);
        all.push(req);
        sched.add(req);
      }
      const plan = sched.schedule();
      const label = `trial ${trial} step ${steps}`;
      assert.ok(plan.seqs.length <= maxNumSeqs, `${label}: ${plan.seqs.length} sequences > maxNumSeqs ${maxNumSeqs}`);
      assert.ok(plan.numBatchedTokens <= maxNumBatchedTokens, `${label}: ${plan.numBatchedTokens} tokens > ${maxNumBatchedTokens}`);
      assert.equal(plan.numBatchedTokens, plan.seqs.reduce((a, s) => a + s.numNewTokens, 0), label);
      assert.equal(new Set(ids(plan)).size, plan.seqs.length, `${label}: a sequence scheduled twice`);
      assert.ok(sched.numRunning <= maxNumSeqs, label);
      for (const s of plan.seqs) {
        assert.ok(s.numNewTokens >= 1, label);
        assert.ok(s.startPosition + s.numNewTokens <= s.request.numTokens, `${label}: ${s.request.id} scheduled past its tokens`);
        assert.equal(s.sample, s.startPosition + s.numNewTokens === s.request.numTokens, label);
        assert.ok(blocks.blockTable(s.request.id).length * blockSize >= s.startPosition + s.numNewTokens, `${label}: ${s.request.id} runs outside its blocks`);
      }
      for (const p of plan.preempted) assert.equal(blocks.blockTable(p.id).length, 0, `${label}: preempted ${p.id} kept blocks`);
      blocks.checkInvariants();
      sched.update(plan, output(plan));
      blocks.checkInvariants();
      steps++;
      assert.ok(steps < 5000, `trial ${trial}: no progress after ${steps} steps`);
    }
    for (const req of all) {
      assert.equal(req.finishReason, 'length', `trial ${trial}: ${req.id}`);
      assert.equal(req.outputTokenIds.length, req.params.maxTokens, `trial ${trial}: ${req.id}`);
    }
    assert.equal(blocks.numFreeBlocks, numBlocks, `trial ${trial}: blocks leaked`);
  }
});

test('scheduler: waiting requests are admitted in arrival order, and none overtakes one that does not fit', () => {
  const blocks = new BlockManager(6, 4, false); // 24 tokens of cache
  const sched = new Scheduler(blocks, { maxNumSeqs: 8, maxNumBatchedTokens: 64, maxModelLen: 64, eosTokenId: EOS });
  const a = request('a', 8, 4, 100);
  const big = request('big', 20, 4, 200); // needs 5 blocks; only 4 are left once a runs
  const small = request('small', 2, 4, 300); // would fit, but arrived after big
  sched.add(a);
  sched.add(big);
  sched.add(small);
  const first = sched.schedule();
  assert.deepEqual(ids(first), ['a']);
  assert.equal(sched.numWaiting, 2);
  sched.update(first, output(first));
  // a keeps running (decode first); big still does not fit, so small waits behind it.
  const second = sched.schedule();
  assert.deepEqual(ids(second), ['a']);
  sched.update(second, output(second));
  while (!a.isFinished) {
    const p = sched.schedule();
    sched.update(p, output(p));
  }
  const after = sched.schedule();
  assert.deepEqual(ids(after), ['big', 'small'], 'the oldest waiting request goes first once it fits');
});

test('scheduler: running sequences take the token budget before waiting ones, in arrival order', () => {
  const blocks = new BlockManager(64, 4, false);
  const sched = new Scheduler(blocks, { maxNumSeqs: 8, maxNumBatchedTokens: 10, maxModelLen: 64, eosTokenId: EOS });
  const reqs = ['a', 'b', 'c'].map((id, i) => request(id, 3, 8, 100 * (i + 1)));
  for (const r of reqs) sched.add(r);
  const prefill = sched.schedule();
  assert.deepEqual(ids(prefill), ['a', 'b', 'c']);
  assert.equal(prefill.numBatchedTokens, 9);
  sched.update(prefill, output(prefill));
  const late = request('late', 30, 4, 900);
  sched.add(late);
  // Each running sequence decodes one token; the late prompt gets the rest of the budget (7 of 30).
  const step = sched.schedule();
  assert.deepEqual(ids(step), ['a', 'b', 'c', 'late']);
  assert.deepEqual(step.seqs.map((s) => s.numNewTokens), [1, 1, 1, 7]);
  assert.equal(step.seqs[3].sample, false, 'a partial prefill samples nothing');
  sched.update(step, output(step));
  const next = sched.schedule();
  assert.deepEqual(ids(next), ['a', 'b', 'c', 'late']);
  assert.equal(next.seqs[3].startPosition, 7, 'chunked prefill continues where it stopped');
});

test('scheduler: an empty pool preempts the latest running sequence first; it resumes before later arrivals', () => {
  const blocks = new BlockManager(3, 4, false); // 12 tokens of cache
  const sched = new Scheduler(blocks, { maxNumSeqs: 8, maxNumBatchedTokens: 64, maxModelLen: 64, eosTokenId: EOS });
  const a = request('a', 4, 8, 100); // one block, a second at its 5th token
  const b = request('b', 4, 8, 200);
  const c = request('c', 4, 8, 300);
  for (const r of [a, b, c]) sched.add(r);
  const prefill = sched.schedule();
  assert.deepEqual(ids(prefill), ['a', 'b', 'c']);
  assert.equal(blocks.numFreeBlocks, 0);
  sched.update(prefill, output(prefill)); // each now has 5 tokens: every decode needs a new block
  const d = request('d', 2, 2, 400);
  sched.add(d);
  const step = sched.schedule();
  assert.deepEqual(step.preempted.map((r) => r.id), ['c', 'b'], 'latest arrival first');
  assert.deepEqual(ids(step), ['a']);
  assert.equal(c.numComputedTokens, 0);
  assert.equal(c.numPreemptions, 1);
  assert.equal(sched.numWaiting, 3);
  sched.update(step, output(step));
  while (!a.isFinished) {
    const p = sched.schedule();
    assert.ok(!ids(p).includes('d') || ids(p).includes('b'), 'd may not run before the preempted b');
    sched.update(p, output(p));
  }
  // Preempted sequences go back to the front of the queue, earlier arrivals first.
  const resumed = sched.schedule();
  assert.equal(ids(resumed)[0], 'b');
  assert.equal(resumed.seqs[0].startPosition, 0, 'recomputed from its tokens');
  assert.equal(resumed.seqs[0].numNewTokens, b.numTokens);
});
