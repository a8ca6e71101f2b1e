// Progress of counted phases (src/cli/stepProgress.ts): a bar redrawn on a TTY, plain lines
// otherwise, always on stderr; bench tokenizer and bench serve as child processes keep their
// results on stdout free of it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { repoRoot } from '../helpers/paths.js';
import { stepFields, stepProgress } from '../../src/cli/stepProgress.js';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

test('plain lines: one per interval (here every step) and the last; nothing after done', () => {
  const out: string[] = [];
  const p = stepProgress('bench x: measuring', 3, { out: { write: (t: string) => out.push(t) }, tty: false, logEverySeconds: 0 });
  p.tick();
  p.tick(1, 'last 0.1 s');
  p.tick();
  p.done();
  p.tick();
  assert.equal(out.length, 3);
  assert.match(out[0], /^tramontane: bench x: measuring: 1\/3 [\d.]+s ETA [\d.]+s\n$/);
  assert.match(out[1], /^tramontane: bench x: measuring: 2\/3 [\d.]+s ETA [\d.]+s {2}last 0\.1 s\n$/);
  assert.match(out[2], /^tramontane: bench x: measuring: 3\/3 [\d.]+s\n$/);
});

test('plain lines: the first step, then none within a long interval; a phase cut short says where it stopped', () => {
  const out: string[] = [];
  const p = stepProgress('phase', 4, { out: { write: (t: string) => out.push(t) }, tty: false, logEverySeconds: 60 });
  p.tick();
  p.tick();
  p.done();
  assert.equal(out.length, 2);
  assert.match(out[0], /^tramontane: phase: 1\/4 /);
  assert.match(out[1], /^tramontane: phase: 2\/4 in [\d.]+s\n$/);
});

test('on a TTY: one line redrawn in place with a bar, cleared at the end', () => {
  const out: string[] = [];
  const p = stepProgress('requests', 4, { out: { write: (t: string) => out.push(t), columns: 100 }, tty: true, redrawPerSecond: 1e9 });
  for (let i = 0; i < 4; i++) p.tick();
  p.done();
  assert.equal(out.length, 5);
  assert.ok(out[1].startsWith('\r\x1b[2Krequests ['), JSON.stringify(out[1]));
  assert.match(out[1], /\[#+>?\.*\] 2\/4 /);
  assert.ok(out.slice(0, 4).every((t) => !t.includes('\n')), 'no newline while drawing');
  assert.equal(out[4], '\r\x1b[2K');
  assert.equal(stepFields(1, 4, 2), '1/4 2.0s ETA 6.0s');
});

test('bench tokenizer: results on stdout, progress on stderr', () => {
  const r = spawnSync(process.execPath, [main, 'bench', 'tokenizer', '--mb', '0.02', '--rounds', '2'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /tramontane Tekkenizer\s+[\d.]+ MB\/s/);
  assert.doesNotMatch(r.stdout, /bench tokenizer:|ETA/);
  assert.match(r.stderr, /^tramontane: bench tokenizer: checking ids: 4\/4 /m);
  assert.match(r.stderr, /^tramontane: bench tokenizer: timing: 8\/8 /m);
});

let llm: LLM;
let app: FastifyInstance;
before(async () => {
  llm = await LLM.create({ maxModelLen: 256, maxNumSeqs: 8, threads: 1, servedModelName: 'tiny' });
  app = createServer(llm);
  await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app.close();
  await llm.close();
});

test('bench serve (a child process against a server here): summary on stdout, progress on stderr', async () => {
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const child = spawn(process.execPath, [main, 'bench', 'serve', '--base-url', url, '--num-prompts', '4', '--random-input-len', '8', '--random-output-len', '2', '--ignore-eos'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Successful requests:\s+4/);
  assert.doesNotMatch(stdout, /bench serve: requests|ETA/);
  assert.match(stderr, /^tramontane: bench serve: requests: 4\/4 /m);
});
