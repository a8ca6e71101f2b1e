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
  /** Of numNewTokens, the trailing draft tokens to verify (request.draftTokenIds[0..n)); the
   *  step samples numDraftTokens + 1 rows. 0 for a plain step. */
  readonly numDraftTokens: number;
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
  /** The tokens the step added to the sequence, in order: none for a prefill chunk, one for a
   *  plain step, up to numDraftTokens + 1 for a verify step (the accepted drafts, then the
   *  target's own token), cut after the one that finished the sequence. */
  readonly sampled: readonly SampledToken[];
  /** Of sampled, how many were accepted draft tokens. */
  readonly numAcceptedDrafts: number;
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

  /** The running sequences, in scheduling order. */
  get runningRequests(): readonly EngineRequest[] {
    return this.running;
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
      let numNew = Math.min(req.numTokens - req.numComputedTokens, budget);
      if (numNew <= 0) continue;
      let numDraft = numNew === 1 ? this.draftsThatFit(req, budget) : 0;
      let ok = this.blocks.allocate(req.id, req.numComputedTokens + numNew + numDraft);
      if (!ok && numDraft > 0) numDraft = 0; // verify nothing rather than preempt anyone
      numNew += numDraft;
      if (numDraft === 0) ok = ok || this.blocks.allocate(req.id, req.numComputedTokens + numNew);
      while (!ok) {
        const victim = this.running[this.running.length - 1];
        this.preempt(victim);
        preempted.push(victim);
        if (victim === req) break;
        ok = this.blocks.allocate(req.id, req.numComputedTokens + numNew);
      }
      if (!ok) break; // req preempted itself: nothing after it is running
      seqs.push(this.scheduled(req, numNew, numDraft));
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
        seqs.push(this.scheduled(req, numNew, 0));
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
      const drafts = req.draftTokenIds;
      req.draftTokenIds = [];
      if (req.isFinished || req.status !== 'running') return;
      const promptLogprobs = output.promptLogprobs[i] ?? null;
      if (promptLogprobs) req.promptLogprobsUpTo = promptLogprobs.firstPosition + promptLogprobs.entries.length;
      const sampled: SampledToken[] = [];
      let numAccepted = 0;
      let finished: FinishReason | null = null;
      if (s.sample) {
        const rows = s.numDraftTokens > 0 ? output.sampledRows?.[i] : [output.sampled[i]];
        if (!rows || rows.length !== s.numDraftTokens + 1 || rows.some((t) => !t)) {
          throw new Error(`runner returned no token for sampled sequence ${req.id}`);
        }
        // Row j's token is what the target samples after the drafts before it; the drafts hold
        // while each row's token equals the next draft (exact match: see speculative/README).
        for (let j = 0; j < rows.length && finished === null; j++) {
          const token = rows[j] as SampledToken;
          sampled.push(token);
          req.outputTokenIds.push(token.tokenId);
          finished = this.checkStop(req, token.tokenId);
          if (j >= s.numDraftTokens || token.tokenId !== drafts[j]) break;
          numAccepted++;
        }
      }
      // K/V holds the step's real tokens plus the accepted drafts; the rest is rolled back.
      req.numComputedTokens = s.startPosition + s.numNewTokens - s.numDraftTokens + Math.max(0, sampled.length - 1);
      if (s.numDraftTokens > 0) this.blocks.trim(req.id, req.numTokens);
      this.blocks.commitFullBlocks(req.id, req.blockHashes(bs), Math.floor(req.numComputedTokens / bs));
      const last = sampled.length > 0 ? sampled[sampled.length - 1].tokenId : null;
      if (finished) {
        const byStopId = finished === 'stop' && last !== null && req.params.stopTokenIds.includes(last);
        this.finish(req.id, finished, byStopId ? last : null);
      }
      updates.push({ request: req, sampled, numAcceptedDrafts: numAccepted, promptLogprobs, finished });
    });
    return updates;
  }

  /** Drafts a decoding sequence may verify this step: what it proposed, cut to the budget left
   *  after its own token, the context limit and its remaining max_tokens. */
  private draftsThatFit(req: EngineRequest, budget: number): number {
    const drafts = req.draftTokenIds.length;
    if (drafts === 0 || req.numComputedTokens < req.numPromptTokens) return 0;
    const maxTokens = req.params.maxTokens ?? Infinity;
    const room = Math.min(budget - 1, this.config.maxModelLen - req.numTokens, maxTokens - req.outputTokenIds.length - 1);
    return Math.max(0, Math.min(drafts, room));
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

  private scheduled(req: EngineRequest, numNew: number, numDraft: number): ScheduledSeq {
    const start = req.numComputedTokens;
    if (numDraft < req.draftTokenIds.length) req.draftTokenIds = req.draftTokenIds.slice(0, numDraft);
    return { request: req, startPosition: start, numNewTokens: numNew, sample: start + numNew - numDraft === req.numTokens, numDraftTokens: numDraft };
  }

  private preempt(req: EngineRequest): void {
    if (this.running[this.running.length - 1] === req) this.running.pop();
    else this.running = this.running.filter((r) => r !== req);
    req.draftTokenIds = [];
    this.blocks.free(req.id);
    req.numComputedTokens = 0;
    req.numPreemptions++;
    req.status = 'waiting';
    this.waiting.unshift(req);
  }
}
