// Load on the tiny model over real HTTP: 64 concurrent streams of mixed lengths, each greedy
// output equal to the output of the same request alone; then clients that disconnect at random
// points. Afterwards every KV block is back in the pool.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import type { FastifyInstance } from 'fastify';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';

let llm: LLM;
let app: FastifyInstance;
let client: OpenAI;

before(async () => {
  llm = await LLM.create({ maxModelLen: 256, maxNumSeqs: 32, maxNumBatchedTokens: 512, kvCacheTokens: 4096, threads: 1 });
  app = createServer(llm);
  await app.listen({ host: '127.0.0.1', port: 0 });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1`, apiKey: 'x', maxRetries: 0 });
});

after(async () => {
  await app.close();
  await llm.close();
});

const words = ['north', 'wind', 'over', 'the', 'gulf', 'of', 'lion', 'cold', 'dry', 'clear', 'sky', 'sea'];
function promptOf(i: number): string {
  return Array.from({ length: 2 + ((i * 7) % 40) }, (_, k) => words[(i + k * 5) % words.length]).join(' ');
}
const maxTokensOf = (i: number) => 4 + ((i * 11) % 29);

async function streamText(i: number, signal?: AbortSignal, stopAfter = Infinity): Promise<string> {
  const stream = await client.completions.create(
    { model: llm.modelName, prompt: promptOf(i), max_tokens: maxTokensOf(i), stream: true, temperature: 0, ignore_eos: true } as OpenAI.CompletionCreateParamsStreaming,
    { signal },
  );
  let text = '';
  let chunks = 0;
  for await (const c of stream) {
    text += c.choices[0]?.text ?? '';
    if (++chunks >= stopAfter) {
      stream.controller.abort();
      break;
    }
  }
  return text;
}

async function waitIdle(): Promise<void> {
  for (let i = 0; i < 500 && (llm.engine.numUnfinished > 0 || llm.engine.scheduler.hasUnfinished()); i++) await new Promise((r) => setTimeout(r, 10));
}

test('64 concurrent streams of mixed lengths match their solo outputs; no block leaks', async () => {
  const alone: string[] = [];
  for (let i = 0; i < 64; i++) {
    const r = await client.completions.create({ model: llm.modelName, prompt: promptOf(i), max_tokens: maxTokensOf(i), temperature: 0, ignore_eos: true } as OpenAI.CompletionCreateParamsNonStreaming);
    alone.push(r.choices[0].text);
  }
  const together = await Promise.all(Array.from({ length: 64 }, (_, i) => streamText(i)));
  together.forEach((t, i) => assert.equal(t, alone[i], `request ${i}`));
  await waitIdle();
  assert.equal(llm.engine.blocks.numFreeBlocks, llm.engine.blocks.numBlocks);
  llm.engine.blocks.checkInvariants();
  assert.ok(llm.engine.blocks.stats.hits > 0, 'repeated prompts were served from the prefix cache');
});

test('clients that disconnect at random points free their blocks', async () => {
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const runs = Array.from({ length: 48 }, (_, i) => {
    const mode = rand();
    if (mode < 0.4) return streamText(i, undefined, 1 + Math.floor(rand() * 6)).catch(() => '');
    if (mode < 0.7) {
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), Math.floor(rand() * 40));
      return streamText(i, ctl.signal).catch(() => '');
    }
    return streamText(i);
  });
  await Promise.all(runs);
  await waitIdle();
  assert.equal(llm.engine.numUnfinished, 0);
  assert.equal(llm.engine.blocks.numFreeBlocks, llm.engine.blocks.numBlocks);
  llm.engine.blocks.checkInvariants();
  // Still serving.
  assert.equal((await streamText(3)).length > 0, true);
});
