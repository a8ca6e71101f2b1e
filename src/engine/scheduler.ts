// Continuous batching: each step `schedule()` picks which sequences run and how many of their
// tokens (decode tokens and chunked prefill side by side) under maxNumSeqs and
// maxNumBatchedTokens; `update(plan, output)` records what the model produced. Running
// sequences go first, in arrival order; when the block pool runs dry the latest running
// sequence is preempted (its blocks freed, recomputed later from its tokens).
import type { StepOutput, SampledToken, PromptLogprobsChunk } from '../model/sampling.js';
import type { BlockManager } from './blockManager.js';
import type { EngineRequest, FinishReason } from './request.js';

export interface SchedulerConfig {
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  readonly maxModelLen: number;
  /** The model's end-of-sequence id. */
  readonly eosTokenId: number;
}

export interface ScheduledSeq {
  readonly request: EngineRequest;
  /** Tokens of the sequence already in the cache before this step. */
  readonly startPosition: number;
  readonly numNewTokens: number;
  /** True when the step ends at the sequence's last known token: sample its next one. */
  readonly sample: boolean;
}

export interface StepPlan {
  readonly seqs: readonly ScheduledSeq[];
  readonly numBatchedTokens: number;
  /** Sequences preempted while planning this step. */
  readonly preempted: readonly EngineRequest[];
}

/** What one sequence got from a step. */
export interface SeqUpdate {
  readonly request: EngineRequest;
  /** The sampled token, when the sequence was sampled. */
  readonly sampled: SampledToken | null;
  readonly promptLogprobs: PromptLogprobsChunk | null;
  /** Set when this step finished the sequence (EOS, stop id, length). */
  readonly finished: FinishReason | null;
}

export class Scheduler {
  private waiting: EngineRequest[] = [];
  private running: EngineRequest[] = [];
  private readonly byId = new Map<string, EngineRequest>();
  /** finish() only marks: finished requests leave the lists in one pass (compact()), so ending
   *  k of n sequences costs O(k + n), not O(k * n). */
  private stale = false;

  constructor(
    readonly blocks: BlockManager,
    readonly config: SchedulerConfig,
  ) {}

  get numWaiting(): number {
    this.compact();
    return this.waiting.length;
  }

  get numRunning(): number {
    this.compact();
    return this.running.length;
  }

  hasUnfinished(): boolean {
    return this.byId.size > 0;
  }

  private compact(): void {
    if (!this.stale) return;
    this.stale = false;
    this.waiting = this.waiting.filter((r) => !r.isFinished);
    this.running = this.running.filter((r) => !r.isFinished);
  }

  get(id: string): EngineRequest | undefined {
    return this.byId.get(id);
  }

  add(request: EngineRequest): void {
    if (this.byId.has(request.id)) throw new Error(`request id ${request.id} is already in use`);
    this.byId.set(request.id, request);
    this.waiting.push(request);
  }

  /** Ends a request wherever it is (waiting, running, mid-step) and frees its blocks. */
  finish(id: string, reason: FinishReason, stopReason: string | number | null = null): EngineRequest | undefined {
    const req = this.byId.get(id);
    if (!req) return undefined;
    this.byId.delete(id);
    this.stale = true;
    this.blocks.free(id);
    req.status = 'finished';
    req.finishReason = reason;
    req.stopReason = stopReason;
    return req;
  }

  schedule(): StepPlan {
    this.compact();
    const { maxNumSeqs, maxNumBatchedTokens } = this.config;
    const bs = this.blocks.blockSize;
    let budget = maxNumBatchedTokens;
    const seqs: ScheduledSeq[] = [];
    const preempted: EngineRequest[] = [];

    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const req = this.running[i];
      const numNew = Math.min(req.numTokens - req.numComputedTokens, budget);
      if (numNew <= 0) continue;
      let ok = this.blocks.allocate(req.id, req.numComputedTokens + numNew);
      while (!ok) {
        const victim = this.running[this.running.length - 1];
        this.preempt(victim);
        preempted.push(victim);
        if (victim === req) break;
        ok = this.blocks.allocate(req.id, req.numComputedTokens + numNew);
      }
      if (!ok) break; // req preempted itself: nothing after it is running
      seqs.push(this.scheduled(req, numNew));
      budget -= numNew;
    }

    if (preempted.length === 0) {
      const stillWaiting: EngineRequest[] = [];
      let blocked = false;
      for (const req of this.waiting) {
        if (blocked || budget <= 0 || this.running.length >= maxNumSeqs || !this.ready(req)) {
          stillWaiting.push(req);
          continue;
        }
        let cached: number[] = [];
        if (req.numComputedTokens === 0) {
          // Keep at least one token to compute so the step has logits to sample from; prompt
          // logprobs need every position computed, so such requests skip the cache.
          const hashes = req.blockHashes(bs);
          const maxHit = req.params.promptLogprobs !== null ? 0 : Math.floor((req.numTokens - 1) / bs);
          cached = this.blocks.findCachedPrefix(hashes, maxHit, req.numTokens);
        }
        const start = cached.length * bs;
        const numNew = Math.min(req.numTokens - start, budget);
        if (!this.blocks.allocate(req.id, start + numNew, cached)) {
          blocked = true; // first come, first served: nobody overtakes a request that does not fit
          stillWaiting.push(req);
          continue;
        }
        if (req.numPreemptions === 0) req.numCachedTokens = start;
        req.numComputedTokens = start;
        req.status = 'running';
        this.running.push(req);
        seqs.push(this.scheduled(req, numNew));
        budget -= numNew;
      }
      this.waiting = stillWaiting;
    }
    return { seqs, numBatchedTokens: maxNumBatchedTokens - budget, preempted };
  }

  /** Applies a step's output; returns per scheduled sequence what it got. Sequences finished
   *  (aborted) while the step ran are skipped. */
  update(plan: StepPlan, output: StepOutput): SeqUpdate[] {
    const bs = this.blocks.blockSize;
    const updates: SeqUpdate[] = [];
    plan.seqs.forEach((s, i) => {
      const req = s.request;
      if (req.isFinished || req.status !== 'running') return;
      req.numComputedTokens = s.startPosition + s.numNewTokens;
      const promptLogprobs = output.promptLogprobs[i] ?? null;
      if (promptLogprobs) req.promptLogprobsUpTo = promptLogprobs.firstPosition + promptLogprobs.entries.length;
      let sampled: SampledToken | null = null;
      let finished: FinishReason | null = null;
      if (s.sample) {
        sampled = output.sampled[i] ?? null;
        if (!sampled) throw new Error(`runner returned no token for sampled sequence ${req.id}`);
        req.outputTokenIds.push(sampled.tokenId);
        finished = this.checkStop(req, sampled.tokenId);
      }
      this.blocks.commitFullBlocks(req.id, req.blockHashes(bs), Math.floor(req.numComputedTokens / bs));
      if (finished) {
        const byStopId = finished === 'stop' && sampled !== null && req.params.stopTokenIds.includes(sampled.tokenId);
        this.finish(req.id, finished, byStopId && sampled ? sampled.tokenId : null);
      }
      updates.push({ request: req, sampled, promptLogprobs, finished });
    });
    return updates;
  }

  private checkStop(req: EngineRequest, token: number): FinishReason | null {
    const p = req.params;
    const numOut = req.outputTokenIds.length;
    if (numOut >= p.minTokens) {
      if (!p.ignoreEos && token === this.config.eosTokenId) return 'stop';
      if (p.stopTokenIds.includes(token)) return 'stop';
    }
    if (p.maxTokens !== null && numOut >= p.maxTokens) return 'length';
    if (req.numTokens >= this.config.maxModelLen) return 'length';
    return null;
  }

  private ready(req: EngineRequest): boolean {
    const parent = req.waitFor;
    return parent === null || parent.isFinished || parent.numComputedTokens >= parent.numPromptTokens;
  }

  private scheduled(req: EngineRequest, numNew: number): ScheduledSeq {
    const start = req.numComputedTokens;
    return { request: req, startPosition: start, numNewTokens: numNew, sample: start + numNew === req.numTokens };
  }

  private preempt(req: EngineRequest): void {
    if (this.running[this.running.length - 1] === req) this.running.pop();
    else this.running = this.running.filter((r) => r !== req);
    this.blocks.free(req.id);
    req.numComputedTokens = 0;
    req.numPreemptions++;
    req.status = 'waiting';
    this.waiting.unshift(req);
  }
}
