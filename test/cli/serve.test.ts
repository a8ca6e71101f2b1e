// `tramontane serve` as a user runs it: a child process on a free loopback port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cliPath as cli, spawnServe } from '../helpers/spawnServe.js';

test('serve starts on the embedded model, answers with the API key, and stops on SIGTERM', async () => {
  const server = await spawnServe(['--served-model-name', 'tiny', '--max-model-len', '256', '--max-num-seqs', '4'], { TRAMONTANE_API_KEY: 'k1' });
  const url = server.url;
  try {
    assert.match(server.stderr(), /API key required/);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    assert.equal((await fetch(`${url}/v1/models`)).status, 401);
    const models = (await (await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer k1' } })).json()) as { data: { id: string; max_model_len: number }[] };
    assert.equal(models.data[0].id, 'tiny');
    assert.equal(models.data[0].max_model_len, 256);
    const res = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer k1', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: 'hi', max_tokens: 3, temperature: 0, ignore_eos: true }),
    });
    assert.equal(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 3);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});

test('serve refuses bad flags with one clear line', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'serve', ...args], { encoding: 'utf8', timeout: 30_000 });
  let r = run('--port', 'abc');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--port must be a number/);
  r = run('--device', 'cuda');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /CUDA backend not available/);
  r = run('--limit-mm-per-prompt', 'audio=2');
  assert.match(r.stderr, /unknown modality 'audio'/);
  r = run('/nonexistent/model');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /\/nonexistent\/model does not exist/);
  r = run('--bogus');
  assert.match(r.stderr, /unknown option '--bogus'/);
  r = run('--runner-thread', 'maybe');
  assert.match(r.stderr, /--runner-thread must be one of auto, on, off \(got 'maybe'\)/);
  r = run('--load-format', 'safetensors');
  assert.match(r.stderr, /--load-format must be one of auto, dummy \(got 'safetensors'\)/);
  r = run('mistral-small-3.1-24b');
  assert.match(r.stderr, /built-in config without weights: use --load-format dummy/);
});
