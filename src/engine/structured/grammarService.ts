// The engine's side of constrained decoding: one grammar worker thread (grammarWorker.ts) that
// compiles grammars (cached by kind and source) and keeps every constrained sequence's matcher.
//
// - compile(spec): resolves once the grammar is compiled (at once when cached), rejects with an
//   InvalidRequestError when xgrammar refuses it or when it takes longer than the compile timeout
//   (the worker is then replaced: a compile cannot be interrupted; live matchers are rebuilt by
//   replaying their accepted tokens).
// - open(seq, spec) / accept(seq, token) / close(seq): a sequence's matcher, advanced by the
//   tokens it samples.
// - fill(seqs): the next-token bitmasks of those sequences, written by the worker straight into
//   shared memory; requested as soon as a step is planned, awaited just before sampling.
import { Worker } from 'node:worker_threads';
import { InvalidRequestError } from '../errors.js';
import type { FromWorker, ToWorker, WorkerInit } from './grammarProtocol.js';
import type { GrammarSpec } from './resolveStructured.js';

export const DEFAULT_GRAMMAR_COMPILE_TIMEOUT_MS = 30_000;
/** Compiled grammars kept (least recently used evicted first, never one a sequence uses). */
export const GRAMMAR_CACHE_ENTRIES = 256;

export interface GrammarServiceOptions {
  readonly compileTimeoutMs?: number;
}

export interface GrammarVocabulary {
  readonly vocabSize: number;
  /** Bytes of a token; empty for special tokens. */
  tokenBytes(id: number): Uint8Array;
  readonly stopTokenIds: readonly number[];
}

interface SeqState {
  readonly key: string;
  readonly spec: GrammarSpec;
  readonly tokens: number[];
}

interface CacheEntry {
  readonly spec: GrammarSpec;
  /** Resolves when compiled; rejects with the reason. */
  readonly ready: Promise<void>;
  ms: number | null;
  users: number;
}

export const specKey = (s: GrammarSpec): string => `${s.kind}\u0000${s.source}`;

export class GrammarService {
  readonly words: number;
  readonly compileTimeoutMs: number;
  private worker!: Worker;
  private readonly init: WorkerInit;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly seqs = new Map<string, SeqState>();
  private readonly waiting = new Map<number, { readonly done: (m: FromWorker) => void; readonly msg: ToWorker }>();
  private nextId = 0;
  /** Arms a compile's timeout when the worker starts it. */
  private readonly started = new Map<number, () => void>();
  private shared: SharedArrayBuffer | null = null;
  private closed = false;
  /** Seconds the last fills took in the worker (for benchmarks). */
  lastFillMs = 0;

  constructor(vocab: GrammarVocabulary, options: GrammarServiceOptions = {}) {
    const t = options.compileTimeoutMs ?? DEFAULT_GRAMMAR_COMPILE_TIMEOUT_MS;
    if (!Number.isFinite(t) || t <= 0) throw new InvalidRequestError(`grammarCompileTimeoutMs must be a positive number, got ${t}`, 'grammarCompileTimeoutMs');
    this.compileTimeoutMs = t;
    this.words = Math.ceil(vocab.vocabSize / 32);
    const offsets = new Int32Array(vocab.vocabSize + 1);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < vocab.vocabSize; i++) {
      const b = vocab.tokenBytes(i);
      parts.push(b);
      total += b.length;
      offsets[i + 1] = total;
    }
    const bytes = new Uint8Array(total);
    parts.forEach((b, i) => bytes.set(b, offsets[i]));
    this.init = { bytes, offsets, vocabSize: vocab.vocabSize, stopTokenIds: [...vocab.stopTokenIds] };
    this.start();
  }

  private start(): void {
    this.worker = new Worker(new URL('./grammarWorker.js', import.meta.url), { workerData: this.init });
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      if (m.op === 'ready') return;
      if (m.op === 'compiling') {
        this.started.get(m.id)?.();
        this.started.delete(m.id);
        return;
      }
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      w?.done(m);
    });
    this.worker.on('error', (err) => this.restart(`the grammar worker failed: ${err.message}`));
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  private call<T extends FromWorker>(make: (id: number) => ToWorker): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      const msg = make(id);
      this.waiting.set(id, { done: resolve as (m: FromWorker) => void, msg });
      this.post(msg);
    });
  }

  /** Compile time in ms of a cached grammar (null while compiling or unknown). */
  compileMs(spec: GrammarSpec): number | null {
    return this.cache.get(specKey(spec))?.ms ?? null;
  }

  /** Compiles (or finds cached) `spec`; `field` names it in errors. */
  compile(spec: GrammarSpec, field: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the grammar service is closed'));
    const key = specKey(spec);
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // LRU: move to the end
      this.cache.set(key, hit);
      return hit.ready;
    }
    const entry: CacheEntry = { spec, ready: Promise.resolve(), ms: null, users: 0 };
    (entry as { ready: Promise<void> }).ready = new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const id = this.nextId++;
      this.started.set(id, () => {
        timer = setTimeout(() => {
          this.waiting.delete(id);
          this.cache.delete(key);
          reject(new InvalidRequestError(`${field}: the grammar took longer than ${this.compileTimeoutMs} ms to compile`, field));
          this.restart(null);
        }, this.compileTimeoutMs);
      });
      const msg: ToWorker = { op: 'compile', id, key, spec };
      this.waiting.set(id, { msg, done: (m) => {
        if (timer) clearTimeout(timer);
        if (m.op !== 'compiled') return;
        if (m.error !== null) {
          this.cache.delete(key);
          reject(new InvalidRequestError(`${field}: the grammar could not be compiled: ${m.error}`, field));
        } else {
          entry.ms = m.ms;
          resolve();
        }
      } });
      this.post(msg);
    });
    entry.ready.catch(() => {}); // the caller gets the rejection
    this.cache.set(key, entry);
    this.evict();
    return entry.ready;
  }

  private evict(): void {
    for (const [key, e] of this.cache) {
      if (this.cache.size <= GRAMMAR_CACHE_ENTRIES) break;
      if (e.users > 0 || e.ms === null) continue;
      this.cache.delete(key);
      this.post({ op: 'release', key });
    }
  }

  /** Starts a matcher for `seq` (its grammar must have compiled). */
  open(seq: string, spec: GrammarSpec): void {
    const key = specKey(spec);
    const e = this.cache.get(key);
    if (e) e.users++;
    this.seqs.set(seq, { key, spec, tokens: [] });
    this.post({ op: 'open', seq, key });
  }

  has(seq: string): boolean {
    return this.seqs.has(seq);
  }

  /** Advances the matchers by the tokens their sequences sampled. */
  accept(items: readonly (readonly [string, number])[]): void {
    if (items.length === 0) return;
    for (const [seq, token] of items) this.seqs.get(seq)?.tokens.push(token);
    this.post({ op: 'accept', items });
  }

  closeSeq(seq: string): void {
    const s = this.seqs.get(seq);
    if (!s) return;
    this.seqs.delete(seq);
    const e = this.cache.get(s.key);
    if (e) e.users--;
    this.post({ op: 'close', seq });
  }

  /** The next-token bitmasks of `seqs` (row i: views of one shared buffer that the next fill
   *  overwrites), and a promise that the worker has written them. */
  fillAsync(seqs: readonly string[]): { masks: Int32Array[]; ready: Promise<void> } {
    const bytes = seqs.length * this.words * 4;
    if (!this.shared || this.shared.byteLength < bytes) this.shared = new SharedArrayBuffer(Math.max(bytes, 16 * this.words * 4));
    const buffer = this.shared;
    const masks = seqs.map((_, i) => new Int32Array(buffer, i * this.words * 4, this.words));
    const ready = this.call<Extract<FromWorker, { op: 'filled' }>>((id) => ({ op: 'fill', id, seqs: [...seqs], buffer })).then((m) => {
      this.lastFillMs = m.ms;
    });
    return { masks, ready };
  }

  async fill(seqs: readonly string[]): Promise<Int32Array[]> {
    const { masks, ready } = this.fillAsync(seqs);
    await ready;
    return masks;
  }

  /** Replaces the worker (after a compile timeout or a crash): live matchers are rebuilt from
   *  their grammars and accepted tokens; waiting fills are re-sent. */
  private restart(reason: string | null): void {
    if (this.closed) return;
    if (reason !== null) console.error(`tramontane: ${reason}; restarting it`);
    void this.worker.terminate();
    this.start();
    // Grammars that sequences use first (compiled before: fast), then their matchers, then
    // whatever was waiting (other compiles, fills), in the original order.
    const live = new Map<string, GrammarSpec>();
    for (const s of this.seqs.values()) live.set(s.key, s.spec);
    for (const [key, spec] of live) this.post({ op: 'compile', id: -1, key, spec });
    for (const [seq, s] of this.seqs) {
      this.post({ op: 'open', seq, key: s.key });
      if (s.tokens.length > 0) this.post({ op: 'accept', items: s.tokens.map((t) => [seq, t] as const) });
    }
    for (const w of [...this.waiting.values()].sort((a, b) => ('id' in a.msg ? a.msg.id : 0) - ('id' in b.msg ? b.msg.id : 0))) this.post(w.msg);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}
