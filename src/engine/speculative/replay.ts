// Benchmarking only ("replay" in `tramontane bench latency --speculative-config`): proposes
// a recorded greedy continuation of the target, with each proposed token replaced by a wrong
// one with probability 1 - acceptRate, from a seeded generator. Random weights make real
// acceptance rates meaningless; this measures the verify mechanism at a chosen acceptance.
// It proposes nothing past the recording.
//
// With `scripted` (what the benchmark uses; tests of exactness leave it off), acceptance is
// scripted (scriptedVerdicts): a proposal left intact counts as accepted
// whatever the target sampled there. Random-weight logits are nearly flat, so the verify
// step's bf16 rounding (a k+1-row GEMM, not the decode GEMV) flips near-tied greedy choices
// and the recorded continuation would stop matching after the first flip: "100% acceptance"
// could not be measured otherwise. The verify step still does all its work (every row's
// logits and samples); only which tokens are kept is scripted.
import type { EngineRequest } from '../request.js';
import type { Proposer } from './proposer.js';

export class ReplayProposer implements Proposer {
  private state: number;
  /** Per request: which of its current drafts were left intact. */
  private readonly intact = new Map<string, boolean[]>();

  constructor(
    /** Per prompt (by its token ids joined with ','): the target's greedy output tokens. */
    private readonly recordings: ReadonlyMap<string, readonly number[]>,
    readonly acceptRate: number,
    readonly vocabSize: number,
    seed = 1,
    /** Intact proposals count as accepted whatever the target samples (see above). */
    readonly scripted = false,
  ) {
    this.state = seed >>> 0 || 1;
  }

  async propose(requests: readonly EngineRequest[], k: number): Promise<void> {
    for (const req of requests) {
      const rec = this.recordings.get(req.promptTokenIds.join(','));
      const from = req.outputTokenIds.length;
      const drafts: number[] = [];
      const intact: boolean[] = [];
      for (let i = from; rec && i < rec.length && drafts.length < k; i++) {
        const keep = this.uniform() < this.acceptRate;
        intact.push(keep);
        drafts.push(keep ? rec[i] : (rec[i] + 1 + Math.floor(this.uniform() * (this.vocabSize - 1))) % this.vocabSize);
      }
      req.draftTokenIds = drafts;
      this.intact.set(req.id, intact);
    }
  }

  scriptedVerdicts(requestId: string): readonly boolean[] | undefined {
    return this.scripted ? this.intact.get(requestId) : undefined;
  }

  release(requestId: string): void {
    this.intact.delete(requestId);
  }

  private uniform(): number {
    // xorshift32
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }
}
