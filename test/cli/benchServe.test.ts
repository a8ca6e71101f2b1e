// `tramontane bench serve` against an in-process server on the embedded tiny model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';
import { benchServe, probeVocabSize, runServeBenchmark } from '../../src/cli/bench/serve.js';
import { randomRequests, type ServeBenchOptions } from '../../src/cli/bench/serveClient.js';
import { stats } from '../../src/cli/bench/serveMetrics.js';
import { fixture } from '../helpers/paths.js';

let llm: LLM;
let app: FastifyInstance;
let baseUrl: string;

before(async () => {
  llm = await LLM.create({ maxModelLen: 256, maxNumSeqs: 8, threads: 1 });
  app = createServer(llm);
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
after(async () => {
  await app.close();
  await llm.close();
});

const base: ServeBenchOptions = {
  baseUrl: '',
  model: 'tramontane-tiny',
  apiKey: null,
  numPrompts: 6,
  inputLen: 20,
  outputLen: 5,
  rangeRatio: 0,
  requestRate: Infinity,
  burstiness: 1,
  maxConcurrency: 3,
  seed: 1,
  lowId: 1000,
  highId: 4096,
  ignoreEos: true,
};

test('statistics follow numpy (population std, linear percentiles), in ms', () => {
  const s = stats([0.001, 0.002, 0.003, 0.004], [50, 99]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.std - Math.sqrt(1.25)) < 1e-12);
  assert.ok(Math.abs(s.percentiles[1][1] - 3.97) < 1e-9);
  assert.equal(s.median, 2.5);
});

test('random prompts: the asked lengths, in range, reproducible by seed', () => {
  const a = randomRequests({ ...base, numPrompts: 50, inputLen: 100, outputLen: 10, rangeRatio: 0.5 });
  const b = randomRequests({ ...base, numPrompts: 50, inputLen: 100, outputLen: 10, rangeRatio: 0.5 });
  assert.deepEqual(a, b);
  for (const r of a) {
    assert.ok(r.promptTokenIds.length >= 50 && r.promptTokenIds.length <= 150);
    assert.ok(r.promptTokenIds.every((id) => id >= 1000 && id < 4096));
  }
  assert.ok(new Set(a.map((r) => r.promptTokenIds.length)).size > 10);
});

test('a run with a concurrency cap and one with a request rate complete every request', async () => {
  for (const o of [{ ...base, baseUrl }, { ...base, baseUrl, maxConcurrency: null, requestRate: 50 }]) {
    const { summary, json } = await runServeBenchmark(o, [50, 99]);
    assert.equal(summary.completed, 6);
    assert.equal(summary.totalInputTokens, 6 * 20);
    assert.equal(summary.totalOutputTokens, 6 * 5);
    assert.ok(summary.ttft.mean > 0 && summary.e2el.mean >= summary.ttft.mean);
    assert.ok(summary.tpot.mean > 0 && summary.itl.mean > 0);
    assert.ok(summary.outputThroughput > 0);
    assert.ok(typeof summary.hostOverhead === 'number' && summary.hostOverhead >= 0 && summary.hostOverhead < 1, `host overhead ${summary.hostOverhead}`);
    for (const key of ['mean_ttft_ms', 'median_ttft_ms', 'p99_ttft_ms', 'mean_tpot_ms', 'p99_itl_ms', 'median_e2el_ms', 'request_throughput', 'output_throughput', 'total_token_throughput']) {
      assert.equal(typeof json[key], 'number', key);
    }
  }
  assert.equal(llm.engine.blocks.numFreeBlocks, llm.engine.blocks.numBlocks);
});

test('without --tokenizer the prompt ids come from the served vocabulary, read off /detokenize', async () => {
  // tiny-a's vocabulary (1280) is smaller than the [1000, 4096) range bench serve used to assume.
  const small = await LLM.create({ model: fixture('models', 'tiny-a', 'mistral'), maxModelLen: 64, maxNumSeqs: 4, threads: 1 });
  const smallApp = createServer(small);
  try {
    await smallApp.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(smallApp.server.address() as AddressInfo).port}`;
    assert.equal(await probeVocabSize(url, undefined, null), 1280);
    const code = await benchServe(['--base-url', url, '--num-prompts', '3', '--random-input-len', '12', '--random-output-len', '3', '--ignore-eos']);
    assert.equal(code, 0, 'every request completes');
    assert.equal(small.engine.blocks.numFreeBlocks, small.engine.blocks.numBlocks);
  } finally {
    await smallApp.close();
    await small.close();
  }
});
