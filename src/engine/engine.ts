// The engine: requests in, a background step loop over the model runner, outputs out.
// Each step: schedule -> build the batch -> await runner.execute (HTTP, tokenisation and
// detokenisation of other requests run while it is in flight) -> update -> outputs.
import { seedSource } from './seedSource.js';
import type { ModelRunner } from '../model/runner.js';
import { buildStep } from './batchBuilder.js';
import { BlockManager } from './blockManager.js';
import { EngineClosedError, InvalidRequestError } from './errors.js';
import type { RequestOutput } from './outputs.js';
import { EngineRequest, imageContentHash } from './request.js';
import { RequestState } from './requestState.js';
import type { SamplingParams } from './samplingParams.js';
import { Scheduler, type SeqUpdate } from './scheduler.js';
import { EngineGrammar } from './structured/engineGrammar.js';
import type { EngineTokenizer } from './tokenizerPort.js';
import type { Speculator } from './speculative/speculator.js';

export interface EngineOptions {
  readonly maxModelLen?: number;
  readonly maxNumSeqs?: number;
  readonly maxNumBatchedTokens?: number;
  readonly enablePrefixCaching?: boolean;
  /** Longest a structured-outputs grammar may take to compile (a 400 beyond); default 30 s. */
  readonly grammarCompileTimeoutMs?: number;
  /** Speculative decoding (see speculative/): proposes drafts that each step verifies. The
   *  engine closes it. */
  readonly speculator?: Speculator;
  /** Seeds requests that give none draw theirs from (vLLM's --seed); absent: fresh randomness. */
  readonly seed?: number;
}

/** An image and the prompt span it fills. */
export interface EngineImage {
  readonly pixels: Float32Array;
  readonly height: number;
  readonly width: number;
  readonly spanStart: number;
  readonly spanLength: number;
}

export interface EngineInput {
  readonly promptTokenIds: readonly number[];
  readonly images?: readonly EngineImage[];
  /** The text the prompt came from, echoed in the output. */
  readonly prompt?: string | null;
}

/** Callbacks for metrics; all times in seconds. */
export interface EngineObserver {
  onFirstToken?(ttft: number): void;
  onInterToken?(seconds: number): void;
  /** `reason`: the first sequence's finish reason ('error' when the request failed). */
  onFinished?(e2e: number, promptTokens: number, generationTokens: number, reason: string): void;
  onStep?(step: StepStats): void;
}

/** One model step as the engine saw it. */
export interface StepStats {
  readonly numBatchedTokens: number;
  /** Every sequence computed exactly one token (a pure decode step, no prompt chunk). */
  readonly decodeOnly: boolean;
  /** Draft tokens verified in the step (speculative decoding), counted in numBatchedTokens. */
  readonly numDraftTokens: number;
  /** Seconds from issuing the step to its output (the runner's execute). */
  readonly executeSeconds: number;
}

/** The scheduler loop: continuous batching, chunked prefill, paged KV cache with prefix caching, preemption; the LLM and the server add requests to it. */
export class Engine {
  readonly blocks: BlockManager;
  readonly scheduler: Scheduler;
  readonly maxModelLen: number;
  readonly observers: EngineObserver[] = [];
  /** Constrained decoding (structured outputs). */
  readonly structured: EngineGrammar;
  readonly speculator: Speculator | null;
  private readonly states = new Map<string, RequestState>();
  private readonly owner = new Map<string, { state: RequestState; index: number }>();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  private nextId = 0;
  /** Counters for metrics. */
  readonly totals = {
    promptTokens: 0,
    generationTokens: 0,
    finishedRequests: 0,
    preemptions: 0,
    steps: 0,
    /** Seconds inside runner.execute (of the steps counted in loopSeconds). */
    executeSeconds: 0,
    /** Seconds of the busy loop, step start to next step start (execute, scheduling, batch
     *  building, outputs, and the HTTP work run between steps); 1 - execute/loop is the host's share. */
    loopSeconds: 0,
  };
  private lastStepStart: number | null = null;
  /** The last step's results, delivered while the next step runs (see step()). */
  private pendingUpdates: SeqUpdate[] = [];
  private lastExecuteSeconds = 0;
  private readonly drawSeed: () => number;

  constructor(
    readonly runner: ModelRunner,
    readonly tokenizer: EngineTokenizer,
    options: EngineOptions = {},
  ) {
    const limits = runner.limits;
    this.maxModelLen = Math.min(options.maxModelLen ?? limits.maxModelLen, limits.maxModelLen);
    const maxNumSeqs = Math.min(options.maxNumSeqs ?? limits.maxNumSeqs, limits.maxNumSeqs);
    const maxNumBatchedTokens = Math.min(options.maxNumBatchedTokens ?? limits.maxNumBatchedTokens, limits.maxNumBatchedTokens);
    for (const [name, v] of [['maxModelLen', this.maxModelLen], ['maxNumSeqs', maxNumSeqs], ['maxNumBatchedTokens', maxNumBatchedTokens]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new InvalidRequestError(`${name} must be a positive integer, got ${v}`, name);
    }
    this.speculator = options.speculator ?? null;
    this.drawSeed = seedSource(options.seed ?? null);
    this.blocks = new BlockManager(runner.kvCache.numBlocks, runner.kvCache.blockSize, options.enablePrefixCaching ?? true);
    this.scheduler = new Scheduler(this.blocks, { maxNumSeqs, maxNumBatchedTokens, maxModelLen: this.maxModelLen, eosTokenId: tokenizer.eosId });
    this.structured = new EngineGrammar(tokenizer, limits.vocabSize, { compileTimeoutMs: options.grammarCompileTimeoutMs });
  }

  get numUnfinished(): number {
    return this.states.size;
  }

  /** Queues a request; returns its state (see `stream()` and `result()`). */
  add(input: EngineInput, params: SamplingParams, requestId?: string): RequestState {
    if (this.closed) throw new EngineClosedError();
    const id = requestId ?? `req-${this.nextId++}`;
    if (this.states.has(id)) throw new InvalidRequestError(`request id ${id} is already in use`, 'requestId');
    const prompt = this.validatePrompt(input);
    const images = (input.images ?? []).map((img, i) => ({
      key: `${id}/img${i}`,
      contentHash: imageContentHash(img.pixels, img.height, img.width),
      pixels: img.pixels,
      height: img.height,
      width: img.width,
      spanStart: img.spanStart,
      spanLength: img.spanLength,
    }));
    const maxTokens = params.maxTokens ?? this.maxModelLen - prompt.length;
    const resolved: SamplingParams = { ...params, maxTokens: Math.max(1, maxTokens) };
    const children: EngineRequest[] = [];
    for (let i = 0; i < params.n; i++) {
      const seed = params.seed === null ? this.drawSeed() : (params.seed + i) % 2 ** 31;
      const childId = params.n === 1 ? id : `${i}_${id}`;
      children.push(new EngineRequest(childId, prompt, images, resolved, seed, i === 0 ? null : children[0]));
    }
    const state = new RequestState(id, input.prompt ?? null, prompt, resolved, children, this.tokenizer);
    this.states.set(id, state);
    children.forEach((c, index) => this.owner.set(c.id, { state, index }));
    if (params.structuredOutputs) {
      // Scheduled once its grammar has compiled (off the event loop); other requests run meanwhile.
      this.structured.attach(params, children.map((c) => c.id)).then(
        () => {
          if (!this.states.has(id) || this.closed) return;
          for (const c of children) this.scheduler.add(c);
          this.kick();
        },
        (err: unknown) => {
          if (!this.states.has(id)) return;
          state.fail(err instanceof Error ? err : new Error(String(err)));
          this.retire(state);
        },
      );
    } else {
      for (const c of children) this.scheduler.add(c);
    }
    this.totals.promptTokens += prompt.length;
    this.kick();
    return state;
  }

  /** Ends a request now; its blocks return to the pool. Unknown ids are ignored. */
  abort(requestId: string): void {
    const state = this.states.get(requestId);
    if (!state) return;
    state.seqs.forEach((s, index) => {
      this.scheduler.finish(s.seq.id, 'abort');
      state.finishSeq(index, 'abort', null);
    });
    this.retire(state);
  }

  /**
   * Runs one step; false when there was nothing to do. The previous step's outputs
   * (detokenisation, stop strings, streams) are processed while this step executes; a stop
   * string found then ends its sequence, and the token this step computed for it is dropped.
   */
  async step(): Promise<boolean> {
    if (this.speculator) await this.speculator.prepare(this.scheduler.runningRequests);
    const plan = this.scheduler.schedule();
    this.totals.preemptions += plan.preempted.length;
    if (plan.seqs.length === 0) {
      this.processOutputs();
      return false;
    }
    const built = buildStep(plan, this.blocks, this.tokenizer.eosId);
    let output;
    const t0 = performance.now();
    let outputsError: unknown = null;
    try {
      const masked = this.structured.stepMasks(plan, built.sampling);
      const running = this.runner.execute(built.batch, masked.sampling, built.promptLogprobs ?? undefined, masked.ready);
      try {
        this.processOutputs();
      } catch (err) {
        outputsError = err; // rethrown once the step is back, never leaving it unawaited
      }
      output = await running;
      this.lastExecuteSeconds = (performance.now() - t0) / 1000;
      this.totals.steps++;
    } catch (err) {
      if (outputsError === null) this.processOutputs();
      const error = err instanceof Error ? err : new Error(String(err));
      for (const s of plan.seqs) this.failSeq(s.request.id, error);
      return true;
    }
    if (outputsError !== null) throw outputsError;
    const stats: StepStats = {
      numBatchedTokens: plan.numBatchedTokens,
      decodeOnly: plan.seqs.every((s) => s.numNewTokens === 1 && s.startPosition >= s.request.numPromptTokens),
      numDraftTokens: plan.seqs.reduce((n, s) => n + s.numDraftTokens, 0),
      executeSeconds: this.lastExecuteSeconds,
    };
    for (const o of this.observers) o.onStep?.(stats);
    if (this.speculator) output = this.speculator.applyScript(plan, output);
    this.pendingUpdates = this.scheduler.update(plan, output);
    this.structured.onUpdates(this.pendingUpdates);
    this.speculator?.observe(plan, this.pendingUpdates);
    return true;
  }

  /** Delivers what the last step produced to its requests. */
  processOutputs(): void {
    const updates = this.pendingUpdates;
    this.pendingUpdates = [];
    for (const u of updates) {
      const own = this.owner.get(u.request.id);
      if (!own) continue;
      try {
        this.deliver(u, own.state, own.index);
      } catch (err) {
        // One request's failure (detokenisation, a stop check) fails that request alone.
        this.failSeq(u.request.id, err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private deliver(u: SeqUpdate, state: RequestState, index: number): void {
    if (u.promptLogprobs) state.addPromptLogprobs(u.promptLogprobs);
    let stopString: string | null = null;
    if (u.sampled.length > 0) {
      const prev = state.lastTokenTime;
      for (let j = 0; j < u.sampled.length && stopString === null; j++) {
        stopString = state.addToken(index, u.sampled[j]);
        this.totals.generationTokens++;
        // A stop string ends the sequence at this token: the step's later tokens are dropped.
        if (stopString !== null) u.request.outputTokenIds.length -= u.sampled.length - 1 - j;
      }
      const now = state.lastTokenTime ?? 0;
      if (prev === null) for (const o of this.observers) o.onFirstToken?.((now - state.arrivalTime) / 1000);
      else for (const o of this.observers) o.onInterToken?.((now - prev) / 1000);
    }
    if (stopString !== null) {
      this.scheduler.finish(u.request.id, 'stop', stopString);
      state.finishSeq(index, 'stop', stopString);
    } else if (u.finished) {
      // A stop string completed only by the detokenizer's last bytes still reads as 'stop'.
      state.finishSeq(index, u.finished, u.request.stopReason);
    }
    if (state.finished) this.retire(state);
  }

  /** False once the engine is closed or its runner can no longer run steps (/health says 503). */
  get healthy(): boolean {
    return !this.closed && (this.runner.isAlive?.() ?? true);
  }

  /** Starts the background loop if it is not running. */
  private kick(): void {
    if (this.wake) {
      const w = this.wake;
      this.wake = null;
      w();
    }
    this.loop ??= this.runLoop();
  }

  private async runLoop(): Promise<void> {
    while (!this.closed) {
      if (!this.scheduler.hasUnfinished()) {
        try {
          this.processOutputs();
        } catch (err) {
          this.failAll(err instanceof Error ? err : new Error(String(err)));
        }
        this.lastStepStart = null;
        if (this.scheduler.hasUnfinished() || this.closed) continue;
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      const now = performance.now();
      if (this.lastStepStart !== null) {
        // The previous step and everything up to this one: counted in pairs so the ratio is fair.
        this.totals.loopSeconds += (now - this.lastStepStart) / 1000;
        this.totals.executeSeconds += this.lastExecuteSeconds;
      }
      this.lastStepStart = now;
      let didWork: boolean;
      try {
        didWork = await this.step();
      } catch (err) {
        // A bug, not a bad request (those are refused in add()): fail what is in flight, keep serving.
        this.failAll(err instanceof Error ? err : new Error(String(err)));
        didWork = false;
      }
      if (!didWork) this.lastStepStart = null;
      // Let I/O callbacks (new requests, disconnects, stream readers) run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!didWork && this.scheduler.hasUnfinished()) {
        // Nothing fits (a request waiting for its sibling's prompt, or the pool is full):
        // a finishing request will free space; sleep briefly rather than spin.
        await new Promise<void>((resolve) => setTimeout(resolve, 1));
      }
    }
  }

  /** Stops the loop, aborts what is left and closes the runner. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.states.keys()]) this.abort(id);
    this.kick();
    await this.loop;
    await this.structured.close();
    await this.speculator?.close();
    await this.runner.close();
  }

  /** Waits for a request to finish and returns its final output. */
  async result(state: RequestState): Promise<RequestOutput> {
    let last: RequestOutput | null = null;
    for await (const out of state.stream()) last = out;
    if (!last) throw new Error(`request ${state.id} produced no output`);
    return state.snapshot(false);
  }

  /** Fails every unfinished request with `error` and returns their blocks. */
  private failAll(error: Error): void {
    for (const state of [...this.states.values()]) {
      state.fail(error);
      for (const s of state.seqs) this.scheduler.finish(s.seq.id, 'abort');
      this.retire(state);
    }
  }

  private failSeq(seqId: string, error: Error): void {
    const own = this.owner.get(seqId);
    this.scheduler.finish(seqId, 'abort');
    if (!own) return;
    own.state.fail(error);
    for (const s of own.state.seqs) this.scheduler.finish(s.seq.id, 'abort');
    this.retire(own.state);
  }

  private retire(state: RequestState): void {
    if (!this.states.has(state.id)) return;
    this.states.delete(state.id);
    for (const s of state.seqs) {
      this.owner.delete(s.seq.id);
      this.structured.release(s.seq.id);
      this.speculator?.release(s.seq.id);
    }
    this.totals.finishedRequests++;
    const e2e = (performance.now() - state.arrivalTime) / 1000;
    const reason = state.error ? 'error' : (state.seqs[0]?.finishReason ?? 'abort');
    for (const o of this.observers) {
      try {
        o.onFinished?.(e2e, state.promptTokenIds.length, state.numGeneratedTokens, reason);
      } catch {
        // metrics only: a throwing observer must not take the request or the loop with it
      }
    }
  }

  private validatePrompt(input: EngineInput): number[] {
    const ids = input.promptTokenIds;
    if (!Array.isArray(ids) || ids.length === 0) throw new InvalidRequestError('the prompt must contain at least one token', 'promptTokenIds');
    const vocab = this.runner.limits.vocabSize;
    for (const id of ids) {
      if (!Number.isSafeInteger(id) || id < 0 || id >= vocab) throw new InvalidRequestError(`prompt token id ${id} is outside the vocabulary of ${vocab}`, 'promptTokenIds');
    }
    if (ids.length > this.maxModelLen) {
      throw new InvalidRequestError(`the prompt is ${ids.length} tokens long, more than the maximum context length of ${this.maxModelLen}`, 'prompt');
    }
    const capacity = this.blocks.numBlocks * this.blocks.blockSize;
    if (ids.length + 1 > capacity) {
      throw new InvalidRequestError(`the prompt is ${ids.length} tokens long; the KV cache holds ${capacity} tokens in all`, 'prompt');
    }
    for (const [i, img] of (input.images ?? []).entries()) {
      if (img.spanStart < 0 || img.spanLength < 1 || img.spanStart + img.spanLength > ids.length) {
        throw new InvalidRequestError(`image ${i}: its token span [${img.spanStart}, ${img.spanStart + img.spanLength}) lies outside the prompt`, 'images');
      }
      if (img.pixels.length !== 3 * img.height * img.width) {
        throw new InvalidRequestError(`image ${i}: ${img.pixels.length} pixel values for 3 x ${img.height} x ${img.width}`, 'images');
      }
    }
    return [...ids];
  }
}
