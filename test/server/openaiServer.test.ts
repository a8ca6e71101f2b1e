// The server over real HTTP with the openai client, on the embedded tiny model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import type { FastifyInstance } from 'fastify';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';
import { fixture } from '../helpers/paths.js';

let llm: LLM;
let app: FastifyInstance;
let base: string;
let client: OpenAI;
const MODEL = 'tiny';

before(async () => {
  llm = await LLM.create({ maxModelLen: 512, maxNumSeqs: 16, maxNumBatchedTokens: 256, servedModelName: MODEL, threads: 1 });
  app = createServer(llm, { bodyLimit: 256 * 1024, limitImagesPerPrompt: 2, allowPrivateMediaDestinations: true }); // the image test serves from loopback
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await app.close();
  await llm.close();
});

const greedy = { temperature: 0, ignore_eos: true } as object;
const pngDataUrl = (name: string) => `data:image/png;base64,${readFileSync(fixture('image', 'inputs', name)).toString('base64')}`;

async function statusOf(p: Promise<unknown>): Promise<{ status: number; message: string; param: unknown }> {
  try {
    await p;
  } catch (err) {
    const e = err as { status: number; message: string; param?: unknown };
    return { status: e.status, message: e.message, param: e.param };
  }
  throw new Error('the request succeeded');
}

test('health, version, models', async () => {
  assert.equal((await fetch(`${base}/health`)).status, 200);
  assert.deepEqual(await (await fetch(`${base}/version`)).json(), { version: '0.1.0' });
  const models = await client.models.list();
  assert.equal(models.data[0].id, MODEL);
});

test('completions: text, usage, and the same text as the offline API', async () => {
  const res = await client.completions.create({ model: MODEL, prompt: 'The tramontane blows', max_tokens: 12, ...greedy });
  const offline = await llm.generate('The tramontane blows', { temperature: 0, ignoreEos: true, maxTokens: 12 });
  assert.equal(res.choices[0].text, offline[0].outputs[0].text);
  assert.equal(res.choices[0].finish_reason, 'length');
  assert.equal(res.usage?.prompt_tokens, offline[0].promptTokenIds.length);
  assert.equal(res.usage?.completion_tokens, 12);
  assert.equal(res.usage?.total_tokens, offline[0].promptTokenIds.length + 12);
  // Token prompts are used as given (no BOS added).
  const tok = await client.completions.create({ model: MODEL, prompt: [...offline[0].promptTokenIds], max_tokens: 12, ...greedy });
  assert.equal(tok.choices[0].text, res.choices[0].text);
});

test('streamed completion chunks concatenate to the non-streamed text; usage at the end', async () => {
  const full = await client.completions.create({ model: MODEL, prompt: 'Wind over the sea', max_tokens: 20, ...greedy });
  const stream = await client.completions.create({ model: MODEL, prompt: 'Wind over the sea', max_tokens: 20, stream: true, stream_options: { include_usage: true }, ...greedy });
  let text = '';
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    if (chunk.choices.length > 0) {
      text += chunk.choices[0].text;
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, full.choices[0].text);
  assert.equal(finish, 'length');
  assert.deepEqual(usage, full.usage);
});

test('chat with a data: image, streamed and not', async () => {
  const messages = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'What is in this picture?' }, { type: 'image_url' as const, image_url: { url: pngDataUrl('gradient_rgb.png') } }] }];
  const res = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, ...greedy });
  assert.equal(res.choices[0].message.role, 'assistant');
  assert.equal(res.usage?.completion_tokens, 10);
  const tokenized = (await (await fetch(`${base}/tokenize`, { method: 'POST', body: JSON.stringify({ model: MODEL, messages }), headers: { 'content-type': 'application/json' } })).json()) as { count: number; tokens: number[] };
  assert.equal(res.usage?.prompt_tokens, tokenized.count);
  assert.ok(tokenized.tokens.includes(10) && tokenized.tokens.includes(13), 'the prompt holds [IMG] ... [IMG_END]');
  const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, stream: true, stream_options: { include_usage: true }, ...greedy });
  let text = '';
  let role = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length > 0) {
      text += chunk.choices[0].delta.content ?? '';
      role = chunk.choices[0].delta.role ?? role;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(role, 'assistant');
  assert.equal(text, res.choices[0].message.content);
  assert.deepEqual(usage, res.usage);
  // A different image changes the answer's prompt.
  const other = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: pngDataUrl('noise_rgb.png') } }] }], max_tokens: 10, ...greedy });
  assert.ok(other.usage && other.usage.prompt_tokens > 0);
});

test('n > 1 with a seed: n choices, reproducible', async () => {
  const req = { model: MODEL, prompt: 'Mistral', max_tokens: 8, n: 3, temperature: 1, seed: 5, ignore_eos: true } as const;
  const a = await client.completions.create(req);
  const b = await client.completions.create(req);
  assert.deepEqual(a.choices.map((c) => c.index).sort(), [0, 1, 2]);
  assert.deepEqual(a.choices.map((c) => c.text), b.choices.map((c) => c.text));
  assert.equal(new Set(a.choices.map((c) => c.text)).size > 1, true, 'children draw different tokens');
  assert.equal(a.usage?.completion_tokens, 24);
  const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 5, n: 2, seed: 1, ignore_eos: true } as OpenAI.ChatCompletionCreateParamsNonStreaming);
  assert.equal(chat.choices.length, 2);
});

test('stop strings end the text before them', async () => {
  const full = await client.completions.create({ model: MODEL, prompt: 'Stop here', max_tokens: 30, ...greedy });
  const text = full.choices[0].text;
  const stop = text.slice(8, 11);
  assert.ok(stop.length === 3, `generated text long enough: ${JSON.stringify(text)}`);
  const cut = await client.completions.create({ model: MODEL, prompt: 'Stop here', max_tokens: 30, stop: [stop], ...greedy });
  assert.equal(cut.choices[0].text, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.choices[0].finish_reason, 'stop');
  const stream = await client.completions.create({ model: MODEL, prompt: 'Stop here', max_tokens: 30, stop: [stop], stream: true, ...greedy });
  let streamed = '';
  for await (const c of stream) streamed += c.choices[0]?.text ?? '';
  assert.equal(streamed, cut.choices[0].text);
});

test('logprobs in both shapes', async () => {
  const c = await client.completions.create({ model: MODEL, prompt: 'Logprobs', max_tokens: 6, logprobs: 3, ...greedy });
  const lp = c.choices[0].logprobs!;
  assert.equal(lp.tokens!.length, 6);
  assert.equal(lp.token_logprobs!.length, 6);
  for (let i = 0; i < 6; i++) {
    assert.ok(lp.token_logprobs![i]! <= 0);
    const top = lp.top_logprobs![i]!;
    assert.ok(Object.keys(top).length >= 3 - 1 && Object.keys(top).length <= 4);
    // Greedy: the chosen token is the most likely one.
    assert.equal(Math.max(...Object.values(top)), lp.token_logprobs![i]);
  }
  const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hello' }], max_tokens: 4, logprobs: true, top_logprobs: 2, ...greedy });
  const content = chat.choices[0].logprobs!.content!;
  assert.equal(content.length, 4);
  for (const t of content) {
    assert.equal(t.top_logprobs.length, 2);
    assert.equal(t.top_logprobs[0].logprob, t.logprob);
  }
});

test('tokenize and detokenize round trip; metrics carry vLLM names', async () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const post = async (path: string, body: object): Promise<any> => (await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })).json();
  const t = await post('/tokenize', { prompt: 'hello there' });
  assert.equal(t.tokens[0], 1, 'BOS');
  assert.equal(t.count, t.tokens.length);
  const d = await post('/detokenize', { tokens: t.tokens.slice(1) });
  assert.equal(d.prompt, 'hello there');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  for (const name of ['vllm:num_requests_running', 'vllm:num_requests_waiting', 'vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'vllm:prefix_cache_queries_total', 'vllm:prefix_cache_hits_total', 'vllm:prompt_tokens_total', 'vllm:generation_tokens_total', 'vllm:time_to_first_token_seconds_bucket', 'vllm:inter_token_latency_seconds_bucket', 'vllm:e2e_request_latency_seconds_count', 'vllm:iteration_tokens_total_count']) {
    assert.ok(metrics.includes(name), name);
  }
  assert.match(metrics, /vllm:request_success_total\{model_name="tiny",finished_reason="length"\} [1-9]/);
  // Steps are counted by kind: the prompts' steps as mixed, the generated tokens' as decode.
  assert.match(metrics, /tramontane:step_execute_seconds_count\{model_name="tiny",kind="mixed"\} [1-9]/);
  assert.match(metrics, /tramontane:step_execute_seconds_count\{model_name="tiny",kind="decode"\} [1-9]/);
  const gen = /vllm:generation_tokens_total\{model_name="tiny"\} (\d+)/.exec(metrics);
  assert.ok(gen && Number(gen[1]) > 0);
});

test('bad requests get OpenAI-style errors and the server keeps serving', async () => {
  const p = (body: object) => client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 2, ...body } as OpenAI.CompletionCreateParamsNonStreaming);
  let e = await statusOf(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], functions: [{ name: 'f' }] }));
  assert.equal(e.status, 400);
  assert.match(e.message, /unsupported parameter: functions/);
  e = await statusOf(p({ temperature: -1 }));
  assert.equal(e.status, 400);
  assert.equal(e.param, 'temperature');
  e = await statusOf(p({ top_p: 0 }));
  assert.equal(e.param, 'top_p');
  e = await statusOf(p({ stop: [''] }));
  assert.equal(e.param, 'stop');
  e = await statusOf(p({ prompt: 'word '.repeat(600) }));
  assert.equal(e.status, 400);
  assert.match(e.message, /maximum context length is 512/);
  e = await statusOf(p({ max_tokens: 600 }));
  assert.match(e.message, /maximum context length is 512 tokens. However, you requested/);
  e = await statusOf(p({ prompt: [999999] }));
  assert.match(e.message, /outside the vocabulary/);
  e = await statusOf(p({ model: 'gpt-4' }));
  assert.equal(e.status, 404);
  e = await statusOf(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: pngDataUrl('not_an_image.png') } }] }] }));
  assert.equal(e.status, 400);
  assert.match(e.message, /messages\.0\.content\.0\.image_url: the image could not be loaded/);
  e = await statusOf(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'file:///etc/passwd' } }] }] }));
  assert.match(e.message, /unsupported URL scheme 'file' \(use http\(s\):\/\/, data:\)/);
  const three = Array.from({ length: 3 }, () => ({ type: 'image_url' as const, image_url: { url: pngDataUrl('one_pixel.png') } }));
  e = await statusOf(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: three }] }));
  assert.match(e.message, /at most 2 images/);
  e = await statusOf(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], top_logprobs: 3 }));
  assert.equal(e.param, 'top_logprobs');
  e = await statusOf(client.chat.completions.create({ model: MODEL, messages: [] }));
  assert.equal(e.status, 400);
  const big = await fetch(`${base}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'x'.repeat(300 * 1024) }), headers: { 'content-type': 'application/json' } });
  assert.equal(big.status, 413);
  assert.ok(((await big.json()) as { error: { message: string } }).error.message.includes('over the limit'));
  const badJson = await fetch(`${base}/v1/completions`, { method: 'POST', body: '{"prompt": ', headers: { 'content-type': 'application/json' } });
  assert.equal(badJson.status, 400);
  assert.ok(((await badJson.json()) as { error?: unknown }).error);
  const ok = await p({});
  assert.equal(ok.choices.length, 1);
});

test('an API key guards every route but /health', async () => {
  const guarded = createServer(llm, { apiKey: 'sekret' });
  await guarded.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(guarded.server.address() as AddressInfo).port}`;
  try {
    assert.equal((await fetch(`${url}/health`)).status, 200);
    for (const path of ['/v1/models', '/metrics', '/version']) assert.equal((await fetch(`${url}${path}`)).status, 401, path);
    const wrong = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'nope', maxRetries: 0 });
    assert.equal((await statusOf(wrong.models.list())).status, 401);
    const right = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sekret', maxRetries: 0 });
    assert.equal((await right.models.list()).data.length, 1);
  } finally {
    await guarded.close();
  }
});

test('echo, several prompts in one request, and chat streaming with n = 2', async () => {
  const echo = await client.completions.create({ model: MODEL, prompt: 'Echo me', max_tokens: 3, echo: true, logprobs: 1, ...greedy });
  const plain = await client.completions.create({ model: MODEL, prompt: 'Echo me', max_tokens: 3, ...greedy });
  assert.equal(echo.choices[0].text, 'Echo me' + plain.choices[0].text);
  const lp = echo.choices[0].logprobs!;
  assert.equal(lp.tokens!.length, echo.usage!.prompt_tokens + 3);
  assert.equal(lp.token_logprobs![0], null, 'the first prompt token has no logprob');
  assert.ok(lp.token_logprobs!.slice(1).every((x) => typeof x === 'number'));

  const multi = await client.completions.create({ model: MODEL, prompt: ['first prompt', 'second one'], max_tokens: 4, n: 2, ...greedy });
  assert.deepEqual(multi.choices.map((c) => c.index).sort(), [0, 1, 2, 3]);
  const solo = await client.completions.create({ model: MODEL, prompt: 'second one', max_tokens: 4, ...greedy });
  assert.equal(multi.choices.find((c) => c.index === 2)!.text, solo.choices[0].text);
  assert.equal(multi.choices.find((c) => c.index === 3)!.text, solo.choices[0].text);

  const messages = [{ role: 'user' as const, content: 'Tell me' }];
  const full = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 6, n: 2, ...greedy });
  const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 6, n: 2, stream: true, ...greedy });
  const texts = ['', ''];
  const finishes: (string | null)[] = [null, null];
  for await (const chunk of stream) {
    for (const c of chunk.choices) {
      texts[c.index] += c.delta.content ?? '';
      finishes[c.index] = c.finish_reason ?? finishes[c.index];
    }
  }
  assert.deepEqual(texts, full.choices.map((c) => c.message.content));
  assert.deepEqual(finishes, ['length', 'length']);
});

test('a client that hangs up on a non-streamed request aborts it', async () => {
  const generatedBefore = llm.engine.totals.generationTokens;
  const ctl = new AbortController();
  const pending = fetch(`${base}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt: 'long', max_tokens: 500, temperature: 0, ignore_eos: true }),
    signal: ctl.signal,
  }).catch(() => null);
  while (llm.engine.totals.generationTokens === generatedBefore) await new Promise((r) => setTimeout(r, 1));
  ctl.abort();
  await pending;
  for (let i = 0; i < 200 && llm.engine.numUnfinished > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(llm.engine.numUnfinished, 0);
  assert.ok(llm.engine.totals.generationTokens - generatedBefore < 500, 'stopped before max_tokens');
  assert.equal(llm.engine.blocks.numFreeBlocks, llm.engine.blocks.numBlocks);
});

test('malformed bodies on every route get a 4xx, never a 5xx, and the server keeps serving', async () => {
  const junk: unknown[] = [
    null, 0, 'text', [], [1, 2], {}, { prompt: null }, { prompt: [] }, { prompt: [[]] }, { prompt: [-1] }, { prompt: [1.5] },
    { prompt: { a: 1 } }, { prompt: 'x', n: 0 }, { prompt: 'x', n: 1e9 }, { prompt: 'x', max_tokens: -5 }, { prompt: 'x', max_tokens: 'ten' },
    { prompt: 'x', temperature: 'hot' }, { prompt: 'x', stop: [1, 2] }, { prompt: 'x', logit_bias: { abc: 1 } }, { prompt: 'x', logit_bias: { '999999': 1 } },
    { prompt: 'x', stop_token_ids: [999999] }, { prompt: 'x', logprobs: 99 }, { prompt: 'x', best_of: 3 }, { prompt: 'x', seed: 1.5 }, { prompt: 'x', min_tokens: 20, max_tokens: 2 },
    { messages: null }, { messages: [{}] }, { messages: [{ role: 'user' }], max_tokens: 1 }, { messages: [{ role: 'wizard', content: 'x' }] },
    { messages: [{ role: 'user', content: [{ type: 'video', url: 'x' }] }] }, { messages: [{ role: 'user', content: [{ type: 'image_url' }] }] },
    { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,!!!!' } }] }] },
    { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'data:,' }] }] },
    { messages: [{ role: 'assistant', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] },
    { messages: [{ role: 'user', content: 'x' }], continue_final_message: true },
    { messages: [{ role: 'user', content: 'x' }], top_logprobs: 50, logprobs: true },
  ];
  const routes = ['/v1/completions', '/v1/chat/completions', '/tokenize', '/detokenize'];
  for (const route of routes) {
    for (const body of junk) {
      for (const stream of [false, true]) {
        const payload = body !== null && typeof body === 'object' && !Array.isArray(body) ? { ...body, stream } : body;
        const res = await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
        const text = await res.text();
        if (res.status >= 400) {
          assert.ok(res.status < 500, `${route} ${JSON.stringify(payload)} -> ${res.status} ${text}`);
          assert.ok((JSON.parse(text) as { error?: { message?: string } }).error?.message, `${route}: an error object`);
        }
      }
    }
  }
  const res = await fetch(`${base}/v1/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
  assert.ok(res.status >= 400 && res.status < 500);
  const ok = await client.completions.create({ model: MODEL, prompt: 'still here', max_tokens: 2 });
  assert.equal(ok.choices.length, 1);
});

test('an http image URL is fetched (same answer as the data: URL); one that fails gets a 400', async () => {
  const { createServer: createHttpServer } = await import('node:http');
  const png = readFileSync(fixture('image', 'inputs', 'gradient_rgb.png'));
  const images = createHttpServer((req, res) => {
    if (req.url === '/picture.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  const imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  try {
    const ask = (url: string) =>
      client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text: 'Describe.' }] }], max_tokens: 6, ...greedy });
    const viaHttp = await ask(`${imageBase}/picture.png`);
    const viaData = await ask(pngDataUrl('gradient_rgb.png'));
    assert.equal(viaHttp.choices[0].message.content, viaData.choices[0].message.content);
    assert.equal(viaHttp.usage?.prompt_tokens, viaData.usage?.prompt_tokens);
    const e = await statusOf(ask(`${imageBase}/missing.png`));
    assert.equal(e.status, 400);
    assert.match(e.message, /image_url: the image could not be loaded/);
  } finally {
    await new Promise<void>((r) => images.close(() => r()));
  }
});
