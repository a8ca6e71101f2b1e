// Issue #10, findings 1 (huge arrays), 3 (fan-out and abort storm), 8 (error hygiene): over
// real HTTP on the embedded tiny model, with /health answering fast while each is in flight.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { assertErrorShape, assertHealthFast, engineAtRest, healthDuring, postJson, rawPost, serve, spawnServe, type Served } from '../helpers/hardening.js';

let s: Served;
let cli: Awaited<ReturnType<typeof spawnServe>>;
let logged = '';

before(async () => {
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logged += String(chunk);
      cb();
    },
  });
  s = await serve({ logLevel: 'warn', logStream });
  // Fan-out widened so the abort storm below can start 12,800 sequences.
  cli = await spawnServe(['--max-request-fanout', '12800']);
});
after(async () => {
  await s.close();
  await cli.close();
});

/** A JSON list of `n` copies of `item` as text, built without an array of n values. */
const list = (item: string, n: number): string => `[${`${item},`.repeat(n - 1)}${item}]`;

test('finding 1: 16M prompt ids (31 MiB) get a 400 at once; memory and /health stay bounded', async () => {
  const body = Buffer.from(`{"model":"tiny","prompt":${list('7', 16_000_000)},"max_tokens":1}`);
  assert.ok(body.length > 30 * 1048576);
  const rss0 = await serverRssMiB();
  const t0 = performance.now();
  const h = await healthDuring(cli.base, rawPost(cli.base, '/v1/completions', body));
  const ms = performance.now() - t0;
  assert.equal(h.result.status, 400);
  assert.match(assertErrorShape(h.result.json, 400), /prompt: the array has more than \d+ elements/);
  assert.ok(ms < 10_000, `answered in ${ms.toFixed(0)} ms`);
  await assertHealthFast(cli.base, h, '16M ids');
  const grown = (await serverRssMiB()) - rss0;
  assert.ok(grown < 100, `the server's RSS grew ${grown.toFixed(0)} MiB`);
});

/** The served process's RSS, from its /metrics (prom-client's process_resident_memory_bytes). */
async function serverRssMiB(): Promise<number> {
  const text = await (await fetch(`${cli.base}/metrics`)).text();
  const m = /^process_resident_memory_bytes (\d+)/m.exec(text);
  if (m) return Number(m[1]) / 1048576;
  const status = readFileSync(`/proc/${cli.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

test('finding 1: other long or wrong-typed arrays: detokenize, messages, stop, logit_bias, nesting', async () => {
  const cases: [string, string, RegExp][] = [
    ['/detokenize', `{"tokens":${list('5', 2_000_000)}}`, /tokens: the array has more than/],
    ['/v1/chat/completions', `{"messages":${list('1', 2_000_000)}}`, /messages: the array has more than/],
    ['/v1/completions', `{"prompt":"x","stop":${list('1', 2_000_000)}}`, /stop: the array has more than/],
    ['/v1/completions', `{"prompt":"x","stop":${list('"a"', 65)}}`, /stop: more than 64 stop strings/],
    ['/v1/completions', `{"prompt":"x","logit_bias":{${Array.from({ length: 1025 }, (_, i) => `"${i}":1`).join(',')}}}`, /logit_bias: more than 1024 entries/],
    ['/v1/completions', `{"prompt":${'['.repeat(100)}${']'.repeat(100)}}`, /nests arrays and objects more than 64 deep/],
    // Within the bounds but wrong: the first bad element is named, no issue per element.
    ['/v1/completions', `{"prompt":[${'1,'.repeat(300)}"x",${'2,'.repeat(100)}3]}`, /prompt\.300: a token id must be a non-negative integer/],
    ['/detokenize', `{"tokens":[${'1,'.repeat(400)}-1]}`, /tokens\.400: a token id must be a non-negative integer/],
    ['/v1/completions', `{"prompt":${list('1', 513)}}`, /prompt: 513 token ids, more than the maximum context length of 512/],
    ['/v1/chat/completions', `{"messages":${list('{"role":"nobody","content":"x"}', 4000)}}`, /messages\.0\.role/],
    ['/v1/chat/completions', `{"messages":${list('{"role":"user","content":"x"}', 4097)}}`, /messages: (more than 4096 messages|the array has more than 4096 elements)/],
  ];
  for (const [path, body, message] of cases) {
    const t0 = performance.now();
    const h = await healthDuring(s.base, rawPost(s.base, path, Buffer.from(body)));
    const result = h.result;
    const ms = performance.now() - t0;
    assert.equal(result.status, 400, `${path} ${body.slice(0, 60)}`);
    assert.match(assertErrorShape(result.json, 400), message);
    assert.ok(ms < 3000, `${path}: answered in ${ms.toFixed(0)} ms`);
    await assertHealthFast(s.base, h, path);
  }
  const client = new OpenAI({ baseURL: `${s.base}/v1`, apiKey: 'x', maxRetries: 0 });
  const ok = await client.completions.create({ model: 'tiny', prompt: 'still serving', max_tokens: 2 });
  assert.equal(ok.choices.length, 1);
});

test('finding 3: prompts x n over the cap is a clear 400; an abort storm of 12,800 sequences ends fast', async () => {
  const tooWide = await postJson(cli.base, '/v1/completions', JSON.stringify({ prompt: Array.from({ length: 400 }, (_, i) => `p${i}`), n: 128, max_tokens: 4 }));
  assert.equal(tooWide.status, 400);
  assert.match(assertErrorShape(tooWide.json, 400), /51200 sequences \(400 prompts x n=128\), more than the limit of 12800 \(--max-request-fanout\)/);

  // 100 prompts x n = 128 (a fan-out the CLI server allows), dropped once all are queued:
  // ending 12,800 sequences at once must not stall the server (it was quadratic).
  const controller = new AbortController();
  const body = JSON.stringify({ prompt: Array.from({ length: 100 }, (_, i) => `storm ${i}`), n: 128, max_tokens: 300, ignore_eos: true });
  const request = postJson(cli.base, '/v1/completions', body, controller.signal).catch((e: Error) => e);
  const t0 = performance.now();
  for (;;) {
    const metrics = await (await fetch(`${cli.base}/metrics`)).text();
    const queued = Number(/^vllm:num_requests_waiting\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]) + Number(/^vllm:num_requests_running\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]);
    if (queued > 12_000) break;
    assert.ok(performance.now() - t0 < 30_000, `the storm is queued (${queued})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  setTimeout(() => controller.abort(), 300);
  const h = await healthDuring(cli.base, request, 2000);
  assert.ok(h.result instanceof Error, 'the client aborted');
  await assertHealthFast(cli.base, h, 'abort storm');
  await engineAtRest(cli, 5000);
});

test('finding 8: a chat-format error on /tokenize is a 400; a real 500 names a request id and logs the detail', async () => {
  const bad = await postJson(s.base, '/tokenize', JSON.stringify({ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant' }] }));
  assert.equal(bad.status, 400);
  assert.match(assertErrorShape(bad.json, 400), /^messages\[1\] \(assistant\): the last message must be/);

  const tokenizer = s.llm.components.tokenizer as { encode: (t: string, o: object) => number[] };
  const original = tokenizer.encode;
  tokenizer.encode = function (text, options) {
    if (text === 'trigger a bug') throw new Error('secret detail at /opt/tramontane/src/x.ts:12');
    return original.call(this, text, options);
  };
  try {
    for (const [path, body] of [
      ['/tokenize', { prompt: 'trigger a bug' }],
      ['/v1/completions', { prompt: 'trigger a bug', max_tokens: 2 }],
    ] as const) {
      const res = await postJson(s.base, path, JSON.stringify(body));
      assert.equal(res.status, 500, path);
      const message = assertErrorShape(res.json, 500);
      const id = /^internal error \(request id ([0-9a-f-]{36})\)$/.exec(message)?.[1];
      assert.ok(id, `generic message: ${message}`);
      assert.doesNotMatch(JSON.stringify(res.json), /secret|\/opt\/|\.ts:|at /);
      assert.ok(logged.includes(id) && logged.includes('secret detail'), 'the log has the id and the detail');
    }
  } finally {
    tokenizer.encode = original;
  }
  assert.equal((await fetch(`${s.base}/health`)).status, 200);
});
