// Issue #10, findings 2 (decompression bombs), 5 (a client gone while its image downloads),
// 6 (local files through image_url) and 7 (SSRF): over real HTTP on the embedded tiny model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, copyFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LLM } from '../../src/engine/llm.js';
import { fixture } from '../helpers/paths.js';
import { assertErrorShape, assertHealthFast, blackPng, engineAtRest, healthDuring, postJson, rawPost, rssMiB, serve, type Served } from '../helpers/hardening.js';

let llm: LLM;
let strict: Served; // the defaults: public http(s) and data: only
let open: Served; // private destinations allowed (the image server below is on loopback)
let images: Server;
let imageBase: string;
const hits: string[] = [];
let stalled: (() => void) | null = null;

const png = readFileSync(fixture('image', 'inputs', 'gradient_rgb.png'));
const dataUrl = (bytes: Buffer): string => `data:image/png;base64,${bytes.toString('base64')}`;
const chat = (urls: string[], extra: object = {}): string =>
  JSON.stringify({ messages: [{ role: 'user', content: [...urls.map((url) => ({ type: 'image_url', image_url: { url } })), { type: 'text', text: 'What is it?' }] }], max_tokens: 2, ...extra });

before(async () => {
  llm = await LLM.create({ maxModelLen: 4096, maxNumSeqs: 16, maxNumBatchedTokens: 512, servedModelName: 'tiny', threads: 1 });
  strict = await serve({ limitImagesPerPrompt: 16 }, 0, llm);
  open = await serve({ limitImagesPerPrompt: 16, allowPrivateMediaDestinations: true }, 0, llm);
  images = createHttpServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/picture.png') res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    else if (req.url === '/stall.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(png.subarray(0, 100)); // the rest never comes
      req.socket.once('close', () => stalled?.());
    } else if (req.url?.startsWith('/hop/')) {
      const n = Number(req.url.slice(5));
      res.writeHead(302, { location: n > 0 ? `/hop/${n - 1}` : '/picture.png' }).end();
    } else if (req.url === '/to-localhost') {
      const port = (images.address() as AddressInfo).port;
      res.writeHead(302, { location: `http://localhost:${port}/picture.png` }).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
});

after(async () => {
  await strict.close();
  await open.close();
  await llm.close();
  await new Promise<void>((r) => images.close(() => r()));
});

test('finding 2: 16 zero-filled 13000x13000 PNGs are refused from their headers: no decode, memory and /health bounded', async () => {
  const bomb = dataUrl(blackPng(13_000, 13_000));
  const rss0 = rssMiB();
  const body = Buffer.from(chat(Array.from({ length: 16 }, () => bomb))); // built before the timed window
  const h = await healthDuring(strict.base, rawPost(strict.base, '/v1/chat/completions', body));
  assert.equal(h.result.status, 400);
  assert.match(assertErrorShape(h.result.json, 400), /13000x13000.*over the limit of \d+ per request|more than the maximum context length/);
  await assertHealthFast(strict.base, h, 'PNG bombs');
  assert.ok(rssMiB() - rss0 < 200, `RSS grew ${(rssMiB() - rss0).toFixed(0)} MiB`);
  // Under the pixel budget but over the context in tokens: refused from the headers too.
  const many = dataUrl(blackPng(1540, 1540));
  const tokens = await postJson(strict.base, '/v1/chat/completions', chat([many, many]));
  assert.equal(tokens.status, 400);
  assert.match(assertErrorShape(tokens.json, 400), /need \d+ tokens so far, more than the maximum context length of 4096/);
});

test('finding 2: an image that fits is decoded off the event loop', async () => {
  const wide = Buffer.from(chat([dataUrl(blackPng(12_000, 400))])); // 4.8M pixels to decode and resize, few tokens
  const h = await healthDuring(strict.base, rawPost(strict.base, '/v1/chat/completions', wide));
  assert.equal(h.result.status, 200, JSON.stringify(h.result.json).slice(0, 300));
  await assertHealthFast(strict.base, h, 'large image decode');
  await engineAtRest(strict);
});

test('finding 6: image_url never reads a local file; DATA: URIs in any case work', async () => {
  const local = fixture('image', 'inputs', 'gradient_rgb.png');
  const answers: string[] = [];
  for (const url of [`http:/../../../../..${local}`, local, '/etc/passwd', '/no/such/file.png', 'file:///etc/passwd', pathToFileURL(local).href, `HTTP:/../..${local}`]) {
    const res = await postJson(strict.base, '/v1/chat/completions', chat([url]));
    assert.equal(res.status, 400, url);
    answers.push(assertErrorShape(res.json, 400).replace(url, '<url>').replace(/image \S+:/, 'image:'));
  }
  // A present file and a missing one read the same: no file-system probe.
  assert.equal(answers[2].replace('/etc/passwd', ''), answers[3].replace('/no/such/file.png', ''));
  assert.ok(answers.every((a) => !/no such file|not an image|permission/.test(a)), answers.join('\n'));
  const upper = await postJson(strict.base, '/v1/chat/completions', chat([dataUrl(png).replace('data:image/png;base64', 'DATA:IMAGE/PNG;BASE64')]));
  assert.equal(upper.status, 200);
});

test('finding 6: --allowed-local-media-path serves file:// URLs inside the directory only, symlinks resolved', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tramontane-media-'));
  copyFileSync(fixture('image', 'inputs', 'gradient_rgb.png'), join(dir, 'in.png'));
  symlinkSync('/etc/passwd', join(dir, 'escape.png'));
  const local = await serve({ allowedLocalMediaPath: dir }, 0, llm);
  try {
    const ok = await postJson(local.base, '/v1/chat/completions', chat([pathToFileURL(join(dir, 'in.png')).href]));
    assert.equal(ok.status, 200, JSON.stringify(ok.json));
    for (const url of [pathToFileURL(join(dir, 'escape.png')).href, `${pathToFileURL(dir).href}/../../etc/passwd`, join(dir, 'in.png'), pathToFileURL(join(dir, 'none.png')).href]) {
      const res = await postJson(local.base, '/v1/chat/completions', chat([url]));
      assert.equal(res.status, 400, url);
      assert.doesNotMatch(assertErrorShape(res.json, 400), /root:|no such file/);
    }
  } finally {
    await local.close();
  }
});

test('finding 7: loopback, private and link-local destinations are refused by default, with one message; nothing is fetched', async () => {
  const port = (images.address() as AddressInfo).port;
  const closed = 1; // nothing listens on port 1
  hits.length = 0;
  const messages = new Set<string>();
  for (const url of [
    `${imageBase}/picture.png`,
    `http://127.0.0.1:${closed}/x.png`,
    `http://localhost:${port}/picture.png`, // a name that resolves to loopback
    `http://[::1]:${port}/picture.png`,
    `http://[::ffff:127.0.0.1]:${port}/picture.png`,
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1/x.png',
    'http://0.0.0.0/x.png',
    'http://2130706433/x.png', // 127.0.0.1 as a number
  ]) {
    const h = await healthDuring(strict.base, postJson(strict.base, '/v1/chat/completions', chat([url])));
    assert.equal(h.result.status, 400, url);
    messages.add(assertErrorShape(h.result.json, 400).replace(/image \S+:/, 'image:').replace(url, ''));
    await assertHealthFast(strict.base, h, url);
  }
  assert.equal(messages.size, 1, [...messages].join('\n'));
  assert.match([...messages][0], /could not be fetched/);
  assert.deepEqual(hits, [], 'the image server was never reached');
});

test('finding 7: allowed destinations: redirects are checked on every hop and capped; the domain allow-list holds', async () => {
  const ok = await postJson(open.base, '/v1/chat/completions', chat([`${imageBase}/hop/3`]));
  assert.equal(ok.status, 200, JSON.stringify(ok.json));
  const tooMany = await postJson(open.base, '/v1/chat/completions', chat([`${imageBase}/hop/9`]));
  assert.equal(tooMany.status, 400);
  assert.match(assertErrorShape(tooMany.json, 400), /could not be fetched/);
  const listed = await serve({ allowPrivateMediaDestinations: true, allowedMediaDomains: ['127.0.0.1'] }, 0, llm);
  try {
    assert.equal((await postJson(listed.base, '/v1/chat/completions', chat([`${imageBase}/picture.png`]))).status, 200);
    hits.length = 0;
    const hop = await postJson(listed.base, '/v1/chat/completions', chat([`${imageBase}/to-localhost`]));
    assert.equal(hop.status, 400);
    assert.deepEqual(hits, ['/to-localhost'], 'the redirect to a host off the list was not followed');
  } finally {
    await listed.close();
  }
});

test('finding 5: a client gone while its image downloads cancels the download and never starts generating', async () => {
  const closedDownload = new Promise<void>((r) => (stalled = r));
  const prompts0 = llm.engine.totals.promptTokens;
  const controller = new AbortController();
  const request = postJson(open.base, '/v1/chat/completions', chat([`${imageBase}/stall.png`], { max_tokens: 50 }), controller.signal).catch((e: Error) => e);
  while (!hits.includes('/stall.png')) await new Promise((r) => setTimeout(r, 20));
  controller.abort();
  assert.ok((await request) instanceof Error);
  const t0 = performance.now();
  await closedDownload;
  assert.ok(performance.now() - t0 < 2000, 'the download was cancelled');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(llm.engine.totals.promptTokens, prompts0, 'no request reached the engine');
  await engineAtRest(open);
});
