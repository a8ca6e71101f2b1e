// The server's log through the CLI's logger (captured): --enable-log-requests lines with ids,
// token counts and timings (prompt text only at debug), the periodic stats line while busy and
// silence when idle, and none of Fastify's own per-request lines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';
import { createCliLogger, textLine } from '../../src/cli/logging.js';

type Entry = Record<string, unknown> & { msg: string; level: number; component?: string };
const lines: string[] = [];
const entries = (): Entry[] => lines.map((l) => JSON.parse(l) as Entry);
let llm: LLM;
let app: FastifyInstance;
let log: Logger;
let base: string;

before(async () => {
  llm = await LLM.create({ maxModelLen: 512, maxNumSeqs: 8, maxNumBatchedTokens: 256, servedModelName: 'tiny', threads: 1 });
  log = createCliLogger({ level: 'info', format: 'json', out: { write: (t: string) => lines.push(t) } });
  app = createServer(llm, { logger: log, logRequests: true, logStatsIntervalSeconds: 0.05 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

after(async () => {
  await app.close();
  await llm.close();
});

const post = async (path: string, body: object) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('--enable-log-requests: received and finished lines with the response id, token counts and timings; no prompt text at info', async () => {
  lines.length = 0;
  const r = await post('/v1/completions', { prompt: 'hello there', max_tokens: 5, temperature: 0, ignore_eos: true });
  assert.equal(r.status, 200, r.text);
  const body = JSON.parse(r.text) as { id: string; usage: { prompt_tokens: number; completion_tokens: number } };
  const mine = entries().filter((e) => e.reqId === body.id);
  const received = mine.find((e) => e.msg === 'request received');
  const finished = mine.find((e) => e.msg === 'request finished');
  assert.ok(received && finished, JSON.stringify(mine));
  assert.equal(received.promptTokens, body.usage.prompt_tokens);
  assert.equal(received.maxTokens, 5);
  assert.equal(finished.promptTokens, body.usage.prompt_tokens);
  assert.equal(finished.outputTokens, 5);
  assert.equal(finished.finishReason, 'length');
  assert.ok(typeof finished.ttftMs === 'number' && typeof finished.e2eMs === 'number' && finished.e2eMs >= finished.ttftMs, JSON.stringify(finished));
  assert.equal(finished.level, 30, 'info');
  assert.ok(!lines.some((l) => l.includes('hello there')), 'no prompt text at info');
  assert.ok(!entries().some((e) => /incoming request|request completed/.test(e.msg)), "no Fastify per-request lines");
});

test('streaming chat is logged too; at debug level the prompt text is', async () => {
  lines.length = 0;
  log.level = 'debug';
  try {
    const r = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'bonjour le monde' }], max_tokens: 3, stream: true, ignore_eos: true });
    assert.equal(r.status, 200);
    const id = /"id":"(chatcmpl-[0-9a-f]+)"/.exec(r.text)![1];
    const prompt = entries().find((e) => e.msg === 'request prompt' && e.reqId === id);
    assert.ok(prompt && String(prompt.prompt).includes('bonjour le monde'), JSON.stringify(entries()));
    assert.equal(prompt.level, 20, 'debug');
    await sleep(20);
    const finished = entries().find((e) => e.msg === 'request finished' && e.reqId === id);
    assert.equal(finished?.outputTokens, 3);
  } finally {
    log.level = 'info';
  }
});

test('the stats line: throughput, running/waiting, KV cache usage and prefix-cache hit rate while busy; nothing when idle', async () => {
  lines.length = 0;
  const r = await post('/v1/completions', { prompt: 'count with me', max_tokens: 40, temperature: 0, ignore_eos: true, n: 2 });
  assert.equal(r.status, 200);
  await sleep(150);
  const stats = entries().filter((e) => e.component === 'stats');
  assert.ok(stats.length >= 1, 'at least one stats line while it ran');
  const line = stats[0];
  assert.match(line.msg, /^Avg prompt throughput: [\d.]+ tokens\/s, Avg generation throughput: [\d.]+ tokens\/s, Running: \d+ reqs, Waiting: \d+ reqs, KV cache usage: [\d.]+%, Prefix cache hit rate: [\d.]+%$/);
  const s = line.stats as Record<string, number>;
  for (const k of ['promptThroughput', 'generationThroughput', 'running', 'waiting', 'kvCacheUsage', 'prefixCacheHitRate']) assert.equal(typeof s[k], 'number', k);
  const generated = stats.reduce((n, e) => n + (e.stats as Record<string, number>).generationThroughput, 0);
  assert.ok(generated > 0, 'generation throughput seen');
  const before = entries().filter((e) => e.component === 'stats').length;
  await sleep(200);
  assert.equal(entries().filter((e) => e.component === 'stats').length, before, 'idle: no more stats lines');
  assert.match(textLine(lines.find((l) => l.includes('"component":"stats"'))!), /^INFO \d\d-\d\d \d\d:\d\d:\d\d \[stats\] Avg prompt throughput: [^=]*%\n$/);
});

test('text lines: level, time, component, message, then the other fields as key=value', () => {
  const t = Date.UTC(2026, 11, 3, 6, 14, 25);
  const line = textLine(JSON.stringify({ level: 30, time: t, component: 'request', msg: 'request finished', reqId: 'cmpl-1', ttftMs: 12.3456, note: 'a b' }));
  assert.match(line, /^INFO \d\d-\d\d \d\d:\d\d:25 \[request\] request finished reqId=cmpl-1 ttftMs=12\.346 note="a b"\n$/);
  assert.match(textLine(JSON.stringify({ level: 40, time: t, msg: 'careful' })), /^WARNING .* careful\n$/);
});
