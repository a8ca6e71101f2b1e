// The chat page in a real browser: Debian's Chromium driven by puppeteer-core (no browser
// download), against `tramontane serve` on the embedded tiny model with an API key. It types the
// key and a message, attaches images (file picker and drag and drop), sends, and checks that the
// answer streams in, the stats show, the second turn carries the first, and a third image over
// the server's --limit-mm-per-prompt is refused in the page. Skipped, with the reason printed,
// where no Chromium is installed (.ci/run installs it). A screenshot goes to
// dist/chat-page.png; with UPDATE_SCREENSHOT=1 to docs/chat-page.png as well (committed).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { fixture, repoRoot } from '../helpers/paths.js';
import { spawnServe, type SpawnedServer } from '../helpers/spawnServe.js';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(chromium) ? false : `no Chromium at ${chromium} (apt-get install chromium, or set CHROMIUM_PATH)`;
if (skip) console.log(`# chat page browser test skipped: ${skip}`);

let server: SpawnedServer;
let browser: Browser;

before(async () => {
  if (skip) return;
  server = await spawnServe(['--served-model-name', 'tiny', '--max-model-len', '2048', '--limit-mm-per-prompt', 'image=2', '--api-key', 'k1']);
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});
after(async () => {
  await browser?.close();
  if (server) assert.equal(await server.stop(), 0);
});

// Browser-side code is passed as strings: the project compiles without the DOM library.
/** Drops a file on the page as a user dragging it from a file manager would. */
async function dropFile(page: Page, name: string, bytes: Buffer, type: string): Promise<void> {
  await page.evaluate(`(() => {
    const data = Uint8Array.from(atob(${JSON.stringify(bytes.toString('base64'))}), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([data], ${JSON.stringify(name)}, { type: ${JSON.stringify(type)} }));
    for (const kind of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(kind, { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
}

const text = (selector: string) => `document.querySelector(${JSON.stringify(selector)})?.textContent ?? ''`;
const count = (selector: string) => `document.querySelectorAll(${JSON.stringify(selector)}).length`;
const idle = `!document.getElementById('send').disabled`;

test('the chat page streams an answer with images, shows its stats, and keeps the turns', { skip, timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 760 });
  const requests: string[] = [];
  const chatBodies: { messages: { role: string; content: unknown }[]; temperature: number; max_tokens: number }[] = [];
  page.on('request', (r) => {
    requests.push(r.url());
    if (r.url().endsWith('/v1/chat/completions')) chatBodies.push(JSON.parse(r.postData() ?? '{}'));
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });

  await page.goto(`${server.url}/`, { waitUntil: 'networkidle0' });
  // Without the key the API answers 401 and the page says so.
  await page.waitForFunction(`${text('#model')} === 'API key needed'`);
  pageErrors.length = 0; // the 401 above is logged by the browser as a failed resource
  await page.type('#api-key', 'k1');
  await page.keyboard.press('Tab'); // 'change' fires: the page asks /v1/models again
  await page.waitForFunction(`${text('#model')}.startsWith('tiny')`);

  await page.evaluate(`document.getElementById('temperature').value = '0'`);
  await page.evaluate(`document.getElementById('max-tokens').value = '24'`);
  const file = await page.$('#file');
  assert.ok(file);
  await (file as unknown as { uploadFile(path: string): Promise<void> }).uploadFile(fixture('image', 'inputs', 'gradient_rgb.png'));
  await dropFile(page, 'noise.png', readFileSync(fixture('image', 'inputs', 'noise_rgb.png')), 'image/png');
  await page.waitForFunction(`${count('#attachments img')} === 2`);
  // A third image is over --limit-mm-per-prompt image=2: refused before anything is sent.
  await dropFile(page, 'grey.png', readFileSync(fixture('image', 'inputs', 'grey.png')), 'image/png');
  await page.waitForFunction(`/at most 2 images/.test(${text('#error')})`);
  assert.equal(await page.$$eval('#attachments img', (l) => l.length), 2);

  await page.type('#input', 'What is in these pictures?');
  await page.click('#send');
  await page.waitForFunction(`(${text('.msg.assistant .text')}).length > 0`);
  await page.waitForFunction(idle, { timeout: 60_000 });
  const stats = await page.$eval('#stats', (el) => el.textContent ?? '');
  assert.match(stats, /time to first token \d+ ms/);
  assert.match(stats, /[\d.]+ tokens\/s/);
  assert.match(stats, /\b24 tokens/); // usage: max_tokens 24 reached (or fewer with an early EOS)
  assert.equal(await page.$eval('#error', (el) => el.textContent), '');
  assert.equal(await page.$$eval('.msg.user img', (l) => l.length), 2);
  const first = chatBodies[0];
  assert.equal(first.temperature, 0);
  assert.equal(first.max_tokens, 24);
  const parts = first.messages[0].content as { type: string; image_url?: { url: string } }[];
  assert.deepEqual(parts.map((p) => p.type), ['text', 'image_url', 'image_url']);
  assert.ok(parts[1].image_url?.url.startsWith('data:image/png;base64,'));
  {
    const shot = join(repoRoot, 'dist', 'chat-page.png');
    await page.screenshot({ path: shot });
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(shot, join(repoRoot, 'docs', 'chat-page.png'));
  }

  // The second turn sends the first one's question and answer before it.
  await page.type('#input', 'And now?');
  await page.keyboard.press('Enter');
  await page.waitForFunction(`${count('.msg.assistant')} === 2 && ${idle}`, { timeout: 60_000 });
  assert.deepEqual(chatBodies[1].messages.map((m) => m.role), ['user', 'assistant', 'user']);
  assert.equal(chatBodies[1].messages[2].content, 'And now?');

  // Stop ends the answer in flight; the page is ready for the next message. The download is
  // throttled (4 KB/s: the 1500 tokens' events take minutes) so that Stop lands before the answer
  // ends however slowly a loaded machine runs the page (unthrottled, a starved page once saw the
  // whole answer before its click).
  await page.emulateNetworkConditions({ download: 4096, upload: -1, latency: 0 });
  await page.evaluate(`document.getElementById('max-tokens').value = '1500'`);
  await page.type('#input', 'Tell me a long story.');
  await page.keyboard.press('Enter');
  // Polled every 20 ms, not on animation frames (which a headless page may draw rarely).
  await page.waitForFunction(`(${text('.msg.assistant:nth-of-type(6) .text')}).length > 0`, { timeout: 60_000, polling: 20 });
  // The button's own click (a CDP mouse click is now and then lost by a page starved of CPU).
  await page.evaluate(`document.getElementById('stop').click()`);
  await page.waitForFunction(idle, { timeout: 10_000 });
  await page.emulateNetworkConditions(null);
  const stopped = await page.evaluate(text('#stats'));
  assert.match(String(stopped), /stopped/);
  const tokens = Number(/(\d+) tokens(?! ?\/)/.exec(String(stopped))?.[1]);
  assert.ok(tokens >= 1 && tokens < 1500, stopped as string);
  assert.equal(chatBodies[2].messages.length, 5);

  // Nothing fetched from anywhere but the server; no script error.
  assert.deepEqual(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('data:') && !u.startsWith('blob:')), []);
  assert.deepEqual(pageErrors, []);
  await page.close();
});
