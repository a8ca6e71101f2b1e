// Issue #10, findings 4 (slow bodies, timeouts, connection cap), 5 (clients gone during upload
// and decode), 9 (health, 405, CORS) and 10 (one failing request fails alone): over real
// HTTP and raw sockets on the embedded tiny model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import OpenAI from 'openai';
import { LLM } from '../../src/engine/llm.js';
import { RequestState } from '../../src/engine/requestState.js';
import { assertErrorShape, assertHealthFast, healthDuring, serve, type Served } from '../helpers/hardening.js';

let llm: LLM;
let s: Served;

before(async () => {
  llm = await LLM.create({ maxModelLen: 512, maxNumSeqs: 16, maxNumBatchedTokens: 256, servedModelName: 'tiny', threads: 1 });
  s = await serve({ http: { requestTimeoutMs: 2000, headersTimeoutMs: 1000, keepAliveTimeoutMs: 500, maxConnections: 8 }, apiKey: 'sekret' }, 0, llm);
});
after(async () => {
  await s.close();
  await llm.close();
});

const auth = { authorization: 'Bearer sekret', 'content-type': 'application/json' };

function open(base: string): Promise<Socket> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server sends until it closes the socket, and when it closed (ms from now). */
function untilClosed(socket: Socket): Promise<{ text: string; ms: number }> {
  const t0 = performance.now();
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve({ text, ms: performance.now() - t0 })));
}

test('finding 4: a body sent one byte at a time is cut off at the request timeout with 408; /health stays fast', async () => {
  const socket = await open(s.base);
  const closed = untilClosed(socket);
  socket.write('POST /v1/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sekret\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n');
  const drip = setInterval(() => socket.writable && socket.write(' '), 300);
  try {
    const h = await healthDuring(s.base, closed);
    assert.match(h.result.text, /^HTTP\/1\.1 408/);
    assert.ok(h.result.ms < 5000, `closed after ${h.result.ms.toFixed(0)} ms`);
    await assertHealthFast(s.base, h, 'slow body');
  } finally {
    clearInterval(drip);
  }
  // Headers that never end: cut at the headers timeout.
  const slow = await open(s.base);
  const slowClosed = untilClosed(slow);
  slow.write('GET /health HTTP/1.1\r\nhost: x\r\n');
  const dripHeaders = setInterval(() => slow.writable && slow.write('x-a: b\r\n'), 200);
  try {
    const r = await slowClosed;
    assert.match(r.text, /^HTTP\/1\.1 408/);
    assert.ok(r.ms < 4000, `closed after ${r.ms.toFixed(0)} ms`);
  } finally {
    clearInterval(dripHeaders);
  }
});

test('finding 4: idle keep-alive connections close; connections over the cap are refused; the server keeps serving', async () => {
  const socket = await open(s.base);
  const closed = untilClosed(socket);
  socket.write('GET /health HTTP/1.1\r\nhost: x\r\n\r\n');
  const r = await closed;
  assert.match(r.text, /^HTTP\/1\.1 200/);
  assert.ok(r.ms < 3000, `idle connection closed after ${r.ms.toFixed(0)} ms`);

  const held: Socket[] = [];
  try {
    for (let i = 0; i < 8; i++) held.push(await open(s.base));
    await new Promise((res) => setTimeout(res, 100));
    const extra = await open(s.base);
    const over = await untilClosed(extra);
    assert.equal(over.text, '', 'a connection over the cap is closed unanswered');
  } finally {
    for (const h of held) h.destroy();
  }
  await new Promise((res) => setTimeout(res, 100));
  assert.equal((await fetch(`${s.base}/health`)).status, 200);
});

test('finding 5: a client gone mid-upload or mid-decode leaves nothing behind', async () => {
  const socket = await open(s.base);
  socket.write('POST /v1/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sekret\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"prompt": "half a bo');
  await new Promise((r) => setTimeout(r, 200));
  socket.destroy();
  // A streamed generation dropped after its first tokens: aborted within a step, blocks freed.
  const controller = new AbortController();
  const res = await fetch(`${s.base}/v1/completions`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ prompt: 'stream and go', max_tokens: 400, ignore_eos: true, stream: true }),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  await reader.read();
  const generated = llm.engine.totals.generationTokens;
  controller.abort();
  const t0 = performance.now();
  while (llm.engine.numUnfinished > 0 || llm.engine.blocks.usage() > 0) {
    assert.ok(performance.now() - t0 < 2000, 'aborted and freed');
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(llm.engine.totals.generationTokens - generated < 50, 'stopped within a few steps');
});

test('finding 9: /health?x=1 needs no key; wrong methods get 405 with Allow; no CORS unless configured', async () => {
  assert.equal((await fetch(`${s.base}/health?x=1`)).status, 200);
  assert.equal((await fetch(`${s.base}/health/?x=1`)).status, 401, 'only /health itself is exempt');
  for (const [method, path, allow] of [
    ['GET', '/v1/completions', 'POST'],
    ['DELETE', '/v1/chat/completions?a=b', 'POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['PUT', '/v1/models', 'GET, HEAD'],
  ]) {
    const res = await fetch(`${s.base}${path}`, { method, headers: { authorization: 'Bearer sekret' } });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get('allow'), allow);
    assertErrorShape(await res.json(), 405);
  }
  assert.equal((await fetch(`${s.base}/v1/nothing`, { headers: { authorization: 'Bearer sekret' } })).status, 404);
  const preflight = { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } };
  assert.equal((await fetch(`${s.base}/v1/completions`, preflight)).headers.get('access-control-allow-origin'), null);

  const withCors = await serve({ cors: { allowedOrigins: ['https://app.example'], allowedMethods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type'], allowCredentials: false } }, 0, llm);
  try {
    const ok = await fetch(`${withCors.base}/v1/completions`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/);
    const other = await fetch(`${withCors.base}/v1/models`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.status, 200);
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example');
  } finally {
    await withCors.close();
  }
});

test('finding 10: a request that fails inside the engine fails alone, with no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => void unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  const original = RequestState.prototype.addToken;
  RequestState.prototype.addToken = function (this: RequestState, ...args: Parameters<typeof original>) {
    if (this.prompt === 'poisoned prompt') throw new Error('detokenizer exploded');
    return original.apply(this, args);
  };
  try {
    const client = new OpenAI({ baseURL: `${s.base}/v1`, apiKey: 'sekret', maxRetries: 0 });
    const [bad, good] = await Promise.allSettled([
      client.completions.create({ model: 'tiny', prompt: 'poisoned prompt', max_tokens: 20, ignore_eos: true } as never),
      client.completions.create({ model: 'tiny', prompt: 'a healthy neighbour', max_tokens: 20, ignore_eos: true } as never),
    ]);
    assert.equal(bad.status, 'rejected');
    assert.equal((bad as PromiseRejectedResult).reason.status, 500);
    assert.match((bad as PromiseRejectedResult).reason.message, /internal error \(request id/);
    assert.equal(good.status, 'fulfilled');
    assert.equal((good as PromiseFulfilledResult<{ usage: { completion_tokens: number } }>).value.usage.completion_tokens, 20);
  } finally {
    RequestState.prototype.addToken = original;
  }
  await new Promise((r) => setTimeout(r, 100));
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, []);
  assert.equal(llm.engine.numUnfinished, 0);
  assert.equal(llm.engine.blocks.usage(), 0);
  assert.equal((await fetch(`${s.base}/health`)).status, 200);
});

test('finding 9: /health says 503 once the engine cannot serve', async () => {
  const own = await serve({});
  try {
    assert.equal((await fetch(`${own.base}/health`)).status, 200);
    await own.llm.engine.runner.close(); // the runner (its thread) is gone
    const res = await fetch(`${own.base}/health`);
    assert.equal(res.status, 503);
    const h = await healthDuring(own.base, Promise.resolve()).catch((e: Error) => e);
    assert.ok(h instanceof Error, 'healthDuring insists on 200');
  } finally {
    await own.close();
  }
});
