// vLLM's "draft_model" method: a small model sharing the target's vocabulary, run by its own
// ModelRunner (same backend) with its own paged KV cache and block manager, proposes k tokens
// by k greedy steps over the target's processed distribution's mode (logit bias, bans and
// penalties applied as the target applies them; temperature, top-k/p and min-p do not move the
// mode). Per sequence it keeps how many leading tokens its cache holds: it catches up on the
// tokens it has not seen (the prompt at first, chunked to its token budget, then the accepted
// tokens) in one step that also samples the first draft, then runs k - 1 one-token steps.
// Images are not given to the draft: it reads their placeholder tokens as text.
import { buildSeqRows } from './draftBatch.js';
import { BlockManager } from '../blockManager.js';
import { seqSampling } from '../batchBuilder.js';
import type { ModelRunner } from '../../model/runner.js';
import type { SeqSampling } from '../../model/sampling.js';
import type { EngineRequest } from '../request.js';
import type { Proposer } from './proposer.js';

interface DraftSeq {
  /** Leading tokens of the sequence whose K/V the draft cache holds. */
  computed: number;
  /** numTokens when drafts were last proposed, until the verify result comes back. */
  pendingBase: number | null;
}

export class DraftModelProposer implements Proposer {
  readonly blocks: BlockManager;
  private readonly seqs = new Map<string, DraftSeq>();

  constructor(
    readonly runner: ModelRunner,
    targetVocabSize: number,
    private readonly eosTokenId: number,
  ) {
    if (runner.limits.vocabSize !== targetVocabSize) {
      throw new Error(`the draft model's vocabulary has ${runner.limits.vocabSize} tokens, the target's ${targetVocabSize}: a draft must share the target's vocabulary`);
    }
    this.blocks = new BlockManager(runner.kvCache.numBlocks, runner.kvCache.blockSize, false);
  }

  async propose(requests: readonly EngineRequest[], k: number): Promise<void> {
    const { maxNumBatchedTokens, maxNumSeqs, maxModelLen } = this.runner.limits;
    const active: { req: EngineRequest; seq: DraftSeq; want: number }[] = [];
    for (const req of requests) {
      req.draftTokenIds = [];
      const want = Math.min(k, maxModelLen - req.numTokens + 1);
      if (want < 1) continue;
      let seq = this.seqs.get(req.id);
      if (!seq) this.seqs.set(req.id, (seq = { computed: 0, pendingBase: null }));
      if (seq.pendingBase !== null) seq.computed = Math.min(seq.computed, seq.pendingBase); // never heard back: trust only what preceded the drafts
      seq.pendingBase = null;
      seq.computed = Math.min(seq.computed, req.numTokens - 1);
      this.blocks.trim(req.id, seq.computed);
      // K/V for the sequence's tokens and want - 1 drafts (the last draft is never fed back).
      if (!this.blocks.allocate(req.id, req.numTokens + want - 1)) continue;
      active.push({ req, seq, want });
    }
    // Catch up and sample the first draft: chunks under the draft's token and sequence budgets.
    let pending = active.filter((a) => a.seq.computed < a.req.numTokens);
    while (pending.length > 0) {
      const rows: { req: EngineRequest; start: number; count: number; sampling: SeqSampling | null }[] = [];
      let budget = maxNumBatchedTokens;
      for (const a of pending) {
        if (budget === 0 || rows.length === maxNumSeqs) break;
        const count = Math.min(a.req.numTokens - a.seq.computed, budget);
        const last = a.seq.computed + count === a.req.numTokens;
        rows.push({ req: a.req, start: a.seq.computed, count, sampling: last ? greedy(seqSampling(a.req, this.eosTokenId, 0)) : null });
        budget -= count;
      }
      const out = await this.runner.execute(...buildSeqRows(rows, this.blocks));
      rows.forEach((r, i) => {
        const a = pending.find((p) => p.req === r.req) as (typeof active)[number];
        a.seq.computed += r.count;
        const t = out.sampled[i];
        if (r.sampling && t) r.req.draftTokenIds = [t.tokenId];
      });
      pending = pending.filter((a) => a.seq.computed < a.req.numTokens);
    }
    // One token a step for the remaining drafts.
    for (let j = 1; j < k; j++) {
      const step = active.filter((a) => a.req.draftTokenIds.length === j && j < a.want);
      for (let c = 0; c < step.length; c += maxNumSeqs) {
        const chunk = step.slice(c, c + maxNumSeqs);
        const rows = chunk.map((a) => ({ req: a.req, start: a.req.numTokens + j - 1, count: 1, sampling: greedy(seqSampling(a.req, this.eosTokenId, j)) }));
        const out = await this.runner.execute(...buildSeqRows(rows, this.blocks));
        chunk.forEach((a, i) => {
          a.seq.computed = a.req.numTokens + j;
          const t = out.sampled[i];
          if (t) a.req.draftTokenIds.push(t.tokenId);
        });
      }
    }
    for (const a of active) a.seq.pendingBase = a.req.numTokens;
  }

  accepted(request: EngineRequest, numAccepted: number): void {
    const seq = this.seqs.get(request.id);
    if (!seq || seq.pendingBase === null) return;
    seq.computed = Math.min(seq.computed, seq.pendingBase + numAccepted);
    seq.pendingBase = null;
  }

  release(requestId: string): void {
    this.seqs.delete(requestId);
    this.blocks.free(requestId);
  }

  async close(): Promise<void> {
    for (const id of this.seqs.keys()) this.blocks.free(id);
    this.seqs.clear();
    await this.runner.close();
  }
}

/** The draft's choice: the mode of the target's processed distribution (no logprobs needed). */
function greedy(p: SeqSampling): SeqSampling {
  return { ...p, temperature: 0, topK: 0, topP: 1, minP: 0, numLogprobs: -1 };
}
