// Details OpenAI clients read: system_fingerprint on responses and stream chunks,
// GET /v1/models/{id}, --max-logprobs (400 naming the limit), --return-tokens-as-token-ids.
// Two servers on the embedded tiny model: defaults, and max_logprobs 3 with token-id names.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { FastifyInstance } from 'fastify';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';

const MODEL = 'mistralai/tiny';
const greedy = { temperature: 0, ignore_eos: true } as object;

let plainLlm: LLM;
let plain: FastifyInstance;
let idsLlm: LLM;
let ids: FastifyInstance;

before(async () => {
  const opts = { maxModelLen: 256, maxNumSeqs: 4, maxNumBatchedTokens: 128, servedModelName: MODEL, threads: 1 };
  plainLlm = await LLM.create(opts);
  plain = createServer(plainLlm, { logLevel: 'silent' });
  idsLlm = await LLM.create({ ...opts, maxLogprobs: 3 });
  ids = createServer(idsLlm, { logLevel: 'silent', returnTokensAsTokenIds: true });
});

after(async () => {
  await plain.close();
  await ids.close();
  await plainLlm.close();
  await idsLlm.close();
});

async function post(app: FastifyInstance, url: string, payload: object): Promise<{ status: number; body: Record<string, unknown>; raw: string }> {
  const res = await app.inject({ method: 'POST', url, payload });
  return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').includes('json') ? (res.json() as Record<string, unknown>) : {}, raw: res.body };
}

/** The JSON events of an SSE body, [DONE] left out. */
function sseEvents(raw: string): Record<string, unknown>[] {
  return raw
    .split('\n\n')
    .map((e) => e.replace(/^data: /, '').trim())
    .filter((e) => e.length > 0 && e !== '[DONE]')
    .map((e) => JSON.parse(e) as Record<string, unknown>);
}

test('system_fingerprint: fp_ and 10 hex digits, the same on completions, chat and every stream chunk', async () => {
  const c = await post(plain, '/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 3, ...greedy });
  assert.equal(c.status, 200, c.raw);
  const fp = c.body.system_fingerprint as string;
  assert.match(fp, /^fp_[0-9a-f]{10}$/);
  const chat = await post(plain, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, ...greedy });
  assert.equal(chat.body.system_fingerprint, fp);
  for (const url of ['/v1/completions', '/v1/chat/completions']) {
    const body = url === '/v1/completions' ? { prompt: 'Hi' } : { messages: [{ role: 'user', content: 'Hi' }] };
    const s = await post(plain, url, { model: MODEL, ...body, max_tokens: 3, stream: true, stream_options: { include_usage: true }, ...greedy });
    const events = sseEvents(s.raw);
    assert.ok(events.length >= 3, s.raw);
    for (const e of events) assert.equal(e.system_fingerprint, fp, JSON.stringify(e));
  }
});

test('system_fingerprint changes with what shapes the outputs (here the context length)', async () => {
  const a = await post(plain, '/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 1 });
  const other = await LLM.create({ maxModelLen: 128, servedModelName: MODEL, threads: 1 });
  try {
    const app = createServer(other, { logLevel: 'silent' });
    const b = await post(app, '/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 1 });
    await app.close();
    assert.notEqual(b.body.system_fingerprint, a.body.system_fingerprint);
  } finally {
    await other.close();
  }
});

test('GET /v1/models/{id}: the model card for the served id (slashes included), 404 naming an unknown id', async () => {
  const list = await plain.inject({ method: 'GET', url: '/v1/models' });
  const card = await plain.inject({ method: 'GET', url: `/v1/models/${MODEL}` });
  assert.equal(card.statusCode, 200);
  assert.deepEqual(card.json(), (list.json() as { data: unknown[] }).data[0]);
  assert.equal((card.json() as { id: string }).id, MODEL);
  const missing = await plain.inject({ method: 'GET', url: '/v1/models/gpt-4o' });
  assert.equal(missing.statusCode, 404);
  const err = (missing.json() as { error: { message: string; param: string } }).error;
  assert.match(err.message, /`gpt-4o` does not exist/);
  assert.equal(err.param, 'model');
  // The openai client's models.retrieve reads the same route.
  await plain.listen({ host: '127.0.0.1', port: 0 });
  const port = (plain.server.address() as { port: number }).port;
  const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
  assert.equal((await client.models.retrieve(MODEL)).id, MODEL);
});

test('--max-logprobs: the default allows 20; above the limit is a 400 naming it, for each logprobs field', async () => {
  const ok = await post(plain, '/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 2, logprobs: 20 });
  assert.equal(ok.status, 200, ok.raw);
  const over = await post(plain, '/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 2, logprobs: 21 });
  assert.equal(over.status, 400);
  assert.match(JSON.stringify(over.body), /more than this server's limit of 20 \(--max-logprobs\)/);

  const cases: [string, object, string][] = [
    ['/v1/completions', { prompt: 'Hi', logprobs: 4 }, 'logprobs'],
    ['/v1/completions', { prompt: 'Hi', prompt_logprobs: 4 }, 'prompt_logprobs'],
    ['/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi' }], logprobs: true, top_logprobs: 4 }, 'top_logprobs'],
  ];
  for (const [url, body, field] of cases) {
    const r = await post(ids, url, { model: MODEL, max_tokens: 2, ...body });
    assert.equal(r.status, 400, `${field}: ${r.raw}`);
    const e = (r.body as { error: { message: string; param: string } }).error;
    assert.equal(e.param, field);
    assert.match(e.message, /requested 4 logprobs, more than this server's limit of 3 \(--max-logprobs\)/);
  }
  const atLimit = await post(ids, '/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 2, logprobs: 3 });
  assert.equal(atLimit.status, 200, atLimit.raw);
  // The offline API holds requests to the same limit.
  assert.throws(() => idsLlm.samplingParams({ logprobs: 4 }), /max_logprobs 3/);
});

test('--return-tokens-as-token-ids: completion and chat logprob tokens read token_id:N, for the sampled ids', async () => {
  const c = await post(ids, '/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 4, logprobs: 2, ...greedy });
  assert.equal(c.status, 200, c.raw);
  const lp = (c.body.choices as { logprobs: { tokens: string[]; top_logprobs: Record<string, number>[] } }[])[0].logprobs;
  const offline = await idsLlm.generate('Hi', { temperature: 0, ignoreEos: true, maxTokens: 4 });
  assert.deepEqual(lp.tokens, offline[0].outputs[0].tokenIds.map((t) => `token_id:${t}`));
  for (const top of lp.top_logprobs) for (const k of Object.keys(top)) assert.match(k, /^token_id:\d+$/);

  const chat = await post(ids, '/v1/chat/completions', { model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 3, logprobs: true, top_logprobs: 2, ...greedy });
  const content = (chat.body.choices as { logprobs: { content: { token: string; bytes: number[]; top_logprobs: { token: string }[] }[] } }[])[0].logprobs.content;
  assert.equal(content.length, 3);
  for (const t of content) {
    assert.match(t.token, /^token_id:\d+$/);
    assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
    for (const alt of t.top_logprobs) assert.match(alt.token, /^token_id:\d+$/);
  }
  // Without the flag, tokens are text.
  const text = await post(plain, '/v1/completions', { model: MODEL, prompt: 'Hi', max_tokens: 4, logprobs: 1, ...greedy });
  const tokens = (text.body.choices as { logprobs: { tokens: string[] } }[])[0].logprobs.tokens;
  assert.ok(tokens.every((t) => !t.startsWith('token_id:')));
});
