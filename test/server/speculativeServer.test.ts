// The server with speculative decoding (the embedded tiny model, runner in its worker thread):
// completions equal those of a server without it, streamed and not, and /metrics carries vLLM's
// spec_decode counters.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import type { FastifyInstance } from 'fastify';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';

const servers: { llm: LLM; app: FastifyInstance; client: OpenAI; base: string }[] = [];

before(async () => {
  for (const speculativeConfig of [undefined, { method: 'ngram', num_speculative_tokens: 5, prompt_lookup_max: 3, prompt_lookup_min: 1 }]) {
    const llm = await LLM.create({ maxModelLen: 256, maxNumSeqs: 8, maxNumBatchedTokens: 64, servedModelName: 'tiny', threads: 1, speculativeConfig });
    const app = createServer(llm, {});
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    servers.push({ llm, app, base, client: new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 }) });
  }
});

after(async () => {
  for (const s of servers) {
    await s.app.close();
    await s.llm.close();
  }
});

test('completions with speculation equal those without; /metrics has the spec_decode counters', async () => {
  const prompt = 'abc abc abc abc abc abc';
  const ask = (c: OpenAI, extra: object) => c.completions.create({ model: 'tiny', prompt, max_tokens: 40, ...extra } as never) as unknown as Promise<OpenAI.Completion>;
  for (const extra of [{ temperature: 0, ignore_eos: true }, { temperature: 1, seed: 5, n: 2, ignore_eos: true }, { temperature: 0, ignore_eos: true, stop: ['ab'] }, { temperature: 0, logprobs: 2, ignore_eos: true }]) {
    const [plain, spec] = await Promise.all(servers.map((s) => ask(s.client, extra)));
    assert.deepEqual(spec.choices.map((c) => [c.text, c.finish_reason]), plain.choices.map((c) => [c.text, c.finish_reason]), JSON.stringify(extra));
    if (plain.choices[0].logprobs) assert.deepEqual(spec.choices[0].logprobs?.tokens, plain.choices[0].logprobs.tokens);
  }
  const stream = await servers[1].client.completions.create({ model: 'tiny', prompt, max_tokens: 40, temperature: 0, stream: true, ignore_eos: true } as never);
  let text = '';
  for await (const chunk of stream as unknown as AsyncIterable<OpenAI.Completion>) text += chunk.choices[0]?.text ?? '';
  const whole = await ask(servers[0].client, { temperature: 0, ignore_eos: true });
  assert.equal(text, whole.choices[0].text);
  const metrics = await (await fetch(`${servers[1].base}/metrics`)).text();
  const drafts = /vllm:spec_decode_num_draft_tokens_total\{model_name="tiny"\} (\d+)/.exec(metrics);
  assert.ok(drafts && Number(drafts[1]) > 0, 'draft tokens counted');
  assert.match(metrics, /vllm:spec_decode_num_drafts_total\{model_name="tiny"\} \d+/);
  assert.match(metrics, /vllm:spec_decode_num_accepted_tokens_total\{model_name="tiny"\} \d+/);
  assert.match(metrics, /vllm:spec_decode_num_accepted_tokens_per_pos_total\{model_name="tiny",position="4"\} \d+/);
  assert.doesNotMatch(await (await fetch(`${servers[0].base}/metrics`)).text(), /spec_decode/, 'no spec counters without speculation');
});
