// `tramontane chat` in a real pseudo-terminal: tmux runs it, send-keys types as a user would,
// capture-pane reads the screen. On the embedded tiny model (random weights: the answers are
// noise, their stats lines are what is checked) and against a running `serve` (--url).
// Skipped, with the reason printed, where tmux is missing (.ci/run installs it).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fixture } from '../helpers/paths.js';
import { cliPath, spawnServe } from '../helpers/spawnServe.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const skip = hasTmux ? false : 'no tmux (apt-get install tmux)';
if (skip) console.log(`# chat terminal test skipped: ${skip}`);

/** A tmux server of its own (-L), so the test never touches a user's sessions. */
const socket = `tramontane-chat-test-${process.pid}`;
const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
after(() => {
  if (!skip) tmux('kill-server');
});

/** Starts `tramontane chat <args>` in a new 160x50 window; the shell line after it reports the exit code. */
function startChat(name: string, args: readonly string[], env: Record<string, string> = {}): void {
  const quoted = [process.execPath, cliPath, 'chat', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const envs = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
  const r = tmux('new-session', '-d', '-s', name, '-x', '160', '-y', '50', `env ${envs} ${quoted}; echo "chat exited with $?"; sleep 600`);
  assert.equal(r.status, 0, r.stderr);
}

const screen = (name: string): string => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', name).stdout;
const keys = (name: string, ...k: string[]) => assert.equal(tmux('send-keys', '-t', name, ...k).status, 0);
const type = (name: string, text: string) => {
  keys(name, '-l', text);
  keys(name, 'Enter');
};

/** Waits until `predicate` holds on the screen; fails with the screen after `ms`. */
async function waitFor(name: string, predicate: (s: string) => boolean, what: string, ms = 60_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const s = screen(name);
    if (predicate(s)) return s;
    if (Date.now() > end) assert.fail(`no ${what} in ${ms} ms; the screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const STATS = /\[(cancelled, )?(\d+) tokens([^\]]*)\]/g;
/** The stats lines on the screen, in order: cancelled?, answer tokens, prompt tokens. */
function statsLines(s: string): { cancelled: boolean; tokens: number; prompt: number }[] {
  return [...s.matchAll(STATS)].map((m) => ({ cancelled: m[1] !== undefined, tokens: Number(m[2]), prompt: Number(/prompt (\d+) tokens/.exec(m[3])?.[1]) }));
}
/** What the screen shows after the last line `marker`, blank lines dropped. */
const textAfter = (s: string, marker: string) => s.slice(s.lastIndexOf(marker) + marker.length).trim();
const countOf = (n: number) => (s: string) => statsLines(s).length >= n;

test('chat on a local model: streamed answers, history, /image, /system, /reset, /exit', { skip, timeout: 180_000 }, async () => {
  const w = 'local';
  startChat(w, ['--temperature', '0', '--max-tokens', '12', '--max-model-len', '2048']);
  await waitFor(w, (s) => /random weights/.test(s) && /^> $/m.test(s), 'banner and prompt');
  type(w, 'Hello, who are you?');
  let s = await waitFor(w, countOf(1), 'first answer');
  const first = statsLines(s)[0];
  assert.equal(first.tokens, 12);
  assert.equal(first.cancelled, false);
  // The second prompt holds the first question and answer: longer than both questions alone.
  type(w, 'Hi');
  s = await waitFor(w, countOf(2), 'second answer');
  const second = statsLines(s)[1];
  assert.ok(second.prompt > first.prompt + 12, `history: prompt ${second.prompt} after ${first.prompt}`);

  type(w, `/image ${fixture('image', 'inputs', 'gradient_rgb.png')}`);
  await waitFor(w, (x) => /image attached: .*gradient_rgb\.png/.test(x), '/image confirmation');
  type(w, 'What is in this picture?');
  s = await waitFor(w, countOf(3), 'answer with the image');
  const withImage = statsLines(s)[2];
  assert.ok(withImage.prompt > second.prompt + 12 + 10, `the image's tokens are in the prompt (${withImage.prompt} after ${second.prompt})`);
  type(w, '/image /no/such/file.png');
  await waitFor(w, (x) => /error: \/no\/such\/file\.png: no such file/.test(x), 'a missing image named');

  type(w, '/reset');
  await waitFor(w, (x) => /\(conversation cleared\)/.test(x), '/reset confirmation');
  type(w, 'Hello, who are you?');
  s = await waitFor(w, countOf(4), 'answer after /reset');
  assert.equal(statsLines(s)[3].prompt, first.prompt, 'after /reset the prompt is the first one again');

  type(w, '/system You are terse.');
  await waitFor(w, (x) => /system prompt set/.test(x), '/system confirmation');
  type(w, '/reset');
  type(w, 'Hello, who are you?');
  s = await waitFor(w, countOf(5), 'answer with a system prompt');
  assert.ok(statsLines(s)[4].prompt > first.prompt, 'the system prompt is in the prompt');

  type(w, '/exit');
  await waitFor(w, (x) => /chat exited with 0/.test(x), 'exit 0');
});

test('chat: Ctrl-C cancels the answer in flight, not the session; twice at the prompt exits', { skip, timeout: 180_000 }, async () => {
  const w = 'cancel';
  // No --max-tokens: an answer may run to the 8192-token context, far longer than the test waits.
  startChat(w, ['--temperature', '0', '--max-model-len', '8192']);
  await waitFor(w, (s) => /^> $/m.test(s), 'prompt');
  type(w, 'Tell me a long story.');
  // Streamed: text is on the screen while the answer is still going (no stats line yet).
  await waitFor(w, (s) => textAfter(s, 'Tell me a long story.').length > 40 && statsLines(s).length === 0, 'streamed text');
  keys(w, 'C-c');
  let s = await waitFor(w, countOf(1), 'the cancelled answer', 15_000);
  const cancelled = statsLines(s)[0];
  assert.ok(cancelled.cancelled, s);
  assert.ok(cancelled.tokens > 0 && cancelled.tokens < 8000, `${cancelled.tokens} tokens`);
  assert.doesNotMatch(s, /chat exited/);

  // The session goes on: the next message is answered (and cancelled again).
  type(w, 'Shorter, please.');
  await waitFor(w, (x) => textAfter(x, 'Shorter, please.').length > 20, 'second answer streaming');
  keys(w, 'C-c');
  s = await waitFor(w, countOf(2), 'second cancellation', 15_000);
  assert.ok(statsLines(s)[1].cancelled);

  // At the prompt: the first Ctrl-C warns, the second exits cleanly.
  keys(w, 'C-c');
  await waitFor(w, (x) => /press Ctrl-C again/.test(x), 'the exit hint');
  assert.doesNotMatch(screen(w), /chat exited/);
  keys(w, 'C-c');
  await waitFor(w, (x) => /chat exited with 0/.test(x), 'exit 0 after the second Ctrl-C');
});

test('chat --url: a running server with an API key, streamed, with an image', { skip, timeout: 180_000 }, async () => {
  const server = await spawnServe(['--served-model-name', 'tiny', '--max-model-len', '2048', '--api-key', 'k2']);
  try {
    const w = 'remote';
    startChat(w, ['--url', server.url, '--temperature', '0', '--max-tokens', '10'], { TRAMONTANE_API_KEY: 'k2' });
    await waitFor(w, (s) => /chat with tiny at http:\/\/127\.0\.0\.1:\d+/.test(s) && /^> $/m.test(s), 'banner naming the server');
    type(w, `/image ${fixture('image', 'inputs', 'grey.png')}`);
    await waitFor(w, (x) => /image attached/.test(x), '/image confirmation');
    type(w, 'Describe the picture.');
    let s = await waitFor(w, countOf(1), 'answer from the server');
    const first = statsLines(s)[0];
    assert.equal(first.tokens, 10);
    type(w, 'And again?');
    s = await waitFor(w, countOf(2), 'second answer from the server');
    assert.ok(statsLines(s)[1].prompt > first.prompt + 10, 'the image and the first turn are resent');
    keys(w, 'C-d');
    await waitFor(w, (x) => /chat exited with 0/.test(x), 'exit 0 on Ctrl-D');

    // A wrong key is refused before the prompt, naming the fix.
    startChat('badkey', ['--url', server.url, '--api-key', 'nope']);
    await waitFor('badkey', (x) => /401: invalid or missing API key.*--api-key/.test(x) && /chat exited with [1-9]/.test(x), 'the 401 explained');
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
