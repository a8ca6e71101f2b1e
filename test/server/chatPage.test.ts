// The chat page's HTTP side: served at / with the right content types and a strict CSP, the
// server's limits in the HTML, no API key needed for the page's files (only for the API), and
// gone with chatPage: false. The page's behaviour in a browser is test/cli/chatPageBrowser.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';

let llm: LLM;

before(async () => {
  llm = await LLM.create({ maxModelLen: 256, maxNumSeqs: 2, servedModelName: 'tiny', threads: 1 });
});
after(async () => {
  await llm.close();
});

test('the page, its script and its style are served with their types and a CSP, without the key', async () => {
  const app = createServer(llm, { apiKey: 'sekret', bodyLimit: 2_000_000, limitImagesPerPrompt: 3, logLevel: 'silent' });
  try {
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /connect-src 'self';/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    // The limits the page bounds uploads by are the server's own.
    const meta = /<meta name="tramontane-limits" content="([^"]*)">/.exec(page.body);
    assert.ok(meta, 'limits meta tag');
    const limits = JSON.parse(meta[1].replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Record<string, number>;
    assert.deepEqual(limits, { bodyLimit: 2_000_000, imagesPerPrompt: 3, maxImagePixelsPerRequest: 1 << 26, maxModelLen: 256 });
    // No inline script or style (the CSP forbids them) and nothing fetched from elsewhere.
    assert.doesNotMatch(page.body, /<script(?![^>]*\bsrc=)[^>]*>/);
    assert.doesNotMatch(page.body, /<style|style=/);
    assert.doesNotMatch(page.body, /(src|href)="(https?:)?\/\//);

    const js = await app.inject({ method: 'GET', url: '/chat-page/chat.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(js.body, /\/v1\/chat\/completions/);
    assert.doesNotMatch(js.body, /https?:\/\//);
    const css = await app.inject({ method: 'GET', url: '/chat-page/chat.css' });
    assert.equal(css.statusCode, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');

    // The API itself still needs the key; other paths are not opened by the page's exemption.
    assert.equal((await app.inject({ method: 'GET', url: '/v1/models' })).statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/chat-page/other.js' })).statusCode, 401);
    assert.equal((await app.inject({ method: 'POST', url: '/' })).statusCode, 401);
  } finally {
    await app.close();
  }
});

test('chatPage: false serves no page', async () => {
  const app = createServer(llm, { chatPage: false, logLevel: 'silent' });
  try {
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/chat-page/chat.js' })).statusCode, 404);
  } finally {
    await app.close();
  }
});
