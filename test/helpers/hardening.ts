// Shared by the hardening tests (issue #10): a server on the embedded tiny model, /health
// latency sampled while a bad request is in flight, RSS, and the engine back at rest.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { connect } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { LLM } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';
import type { ServerOptions } from '../../src/server/context.js';

export interface Served {
  readonly llm: LLM;
  readonly app: FastifyInstance;
  readonly base: string;
  close(): Promise<void>;
}

export async function serve(options: ServerOptions = {}, maxModelLen = 512, llmGiven?: LLM): Promise<Served> {
  const llm = llmGiven ?? (await LLM.create({ maxModelLen, maxNumSeqs: 16, maxNumBatchedTokens: 256, servedModelName: 'tiny', threads: 1 }));
  const app = createServer(llm, { logLevel: 'silent', ...options });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  await fetch(`${base}/health`); // loads fetch's client once, outside any timed window
  return {
    llm,
    app,
    base,
    async close() {
      await app.close();
      if (!llmGiven) await llm.close();
    },
  };
}

/** Polls /health every 40 ms until `work` settles (and at least `minMs`); returns the work's
 *  result and the slowest /health answer in ms (every poll must answer 200). */
export async function healthDuring<T>(base: string, work: Promise<T>, minMs = 0): Promise<{ result: T; maxHealthMs: number; polls: number }> {
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  settled.catch(() => undefined);
  let maxHealthMs = 0;
  let polls = 0;
  const t0 = performance.now();
  while (!done || performance.now() - t0 < minMs) {
    const s = performance.now();
    const res = await fetch(`${base}/health`);
    const ms = performance.now() - s;
    assert.equal(res.status, 200, '/health while the request is in flight');
    maxHealthMs = Math.max(maxHealthMs, ms);
    polls++;
    await new Promise((r) => setTimeout(r, 40));
  }
  return { result: await settled, maxHealthMs, polls };
}

/**
 * Asserts /health answered within HEALTH_MS while the work was in flight. A machine busy with
 * other processes delays even an idle server's answers, so the slowest answer of an idle
 * stretch of as many polls (75 at least, about 3 s) just after is allowed on top: on a quiet
 * machine that is a few ms; a server blocked by the request stays over it.
 */
export async function assertHealthFast(base: string, measured: { maxHealthMs: number; polls: number }, what: string): Promise<void> {
  if (measured.maxHealthMs < HEALTH_MS) return;
  let idleMax = 0;
  for (let i = 0; i < Math.max(measured.polls, 75); i++) {
    const s = performance.now();
    await fetch(`${base}/health`);
    idleMax = Math.max(idleMax, performance.now() - s);
    await new Promise((r) => setTimeout(r, 40));
  }
  assert.ok(measured.maxHealthMs < HEALTH_MS + idleMax, `${what}: /health took ${measured.maxHealthMs.toFixed(0)} ms in flight (idle noise ${idleMax.toFixed(0)} ms)`);
}

/** The event-loop stall a test tolerates. The defects these tests guard against froze the loop
 *  for 6.6 to 50 s (issue 10's findings); a busy 2-core machine delays a healthy server's
 *  answers by a few hundred ms, so 1 s (plus the measured idle noise) separates the two. */
export const HEALTH_MS = 1000;

export function rssMiB(): number {
  return process.memoryUsage().rss / 1048576;
}

/** POSTs a JSON text; gives the status and the parsed answer. */
export async function postJson(base: string, path: string, body: string, signal?: AbortSignal): Promise<{ status: number; json: { error?: { message: string; type: string; param: unknown; code: number } } & Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

/** The OpenAI error shape every 4xx/5xx must have. */
export function assertErrorShape(json: unknown, status: number): string {
  const e = (json as { error?: { message?: unknown; type?: unknown; code?: unknown } }).error;
  assert.ok(e && typeof e.message === 'string' && typeof e.type === 'string', `an OpenAI-shaped error: ${JSON.stringify(json).slice(0, 300)}`);
  assert.equal(e.code, status);
  return e.message as string;
}

/** Waits until the engine has nothing in flight and every KV block is back (or fails). */
export async function engineAtRest(served: Served | { base: string; llm?: undefined }, withinMs = 5000): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const metrics = await (await fetch(`${served.base}/metrics`)).text();
    const running = Number(/^vllm:num_requests_running\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]);
    const waiting = Number(/^vllm:num_requests_waiting\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]);
    const kv = Number(/^vllm:kv_cache_usage_perc\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]);
    const unfinished = served.llm?.engine.numUnfinished ?? 0;
    if (running === 0 && waiting === 0 && kv === 0 && unfinished === 0) return;
    if (performance.now() - t0 > withinMs) assert.fail(`engine not at rest after ${withinMs} ms: running ${running}, waiting ${waiting}, kv ${kv}, unfinished ${unfinished}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A valid all-black 1-bit greyscale PNG of width x height: tiny on the wire, huge decoded. */
export function blackPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([1, 0, 0, 0, 0], 8); // bit depth 1, greyscale
  const raw = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter 0, all zero
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 1 })), chunk('IEND', new Uint8Array())]);
}

/** POSTs `body` over a raw socket, 1 MiB at a time with back-pressure (no client-side copies
 *  of a large body on this process's event loop, which the server shares in these tests). */
export function rawPost(base: string, path: string, body: Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let received = Buffer.alloc(0);
    let settled = false;
    const tryParse = (final: boolean): void => {
      const text = received.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) {
        if (final && !settled) {
          settled = true;
          reject(new Error(`no response (got ${JSON.stringify(text.slice(0, 100))})`));
        }
        return;
      }
      const length = Number(/content-length: (\d+)/i.exec(text.slice(0, headEnd))?.[1] ?? NaN);
      const payload = received.subarray(headEnd + 4);
      if (!final && !(payload.length >= length)) return;
      if (settled) return;
      settled = true;
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
      const raw = payload.subarray(0, Number.isFinite(length) ? length : payload.length).toString('utf8');
      resolve({ status, json: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} });
    };
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      tryParse(false);
    });
    socket.on('close', () => tryParse(true));
    socket.on('error', () => undefined); // EPIPE/ECONNRESET once the server has answered
    socket.on('connect', async () => {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`);
      for (let at = 0; at < body.length && !settled && !socket.destroyed; at += 1 << 20) {
        if (!socket.write(body.subarray(at, at + (1 << 20)))) await new Promise((r) => socket.once('drain', r));
      }
    });
  });
}

/** `tramontane serve` on the tiny model in a child process (the client's own work, such as
 *  building a 31 MiB body, then never counts against the server's event loop). */
export async function spawnServe(args: string[]): Promise<{ base: string; child: ChildProcess; close(): Promise<void> }> {
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'serve', '--port', '0', '--max-model-len', '512', '--max-num-seqs', '16', '--max-num-batched-tokens', '256', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += String(d);
      const m = /serving .* at (http:\/\/[^\s/]+)\/v1/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
  });
  await fetch(`${base}/health`);
  return {
    base,
    child,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
