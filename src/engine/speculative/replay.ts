// Benchmarking only ("replay" in `tramontane bench latency --speculative-config`): proposes
// a recorded greedy continuation of the target (so every proposal would be accepted), with
// each proposed token replaced by a wrong one with probability 1 - acceptRate, from a seeded
// generator. Random weights make real acceptance rates meaningless; this measures the verify
// mechanism at a chosen acceptance. It proposes nothing past the recording.
import type { EngineRequest } from '../request.js';
import type { Proposer } from './proposer.js';

export class ReplayProposer implements Proposer {
  private state: number;

  constructor(
    /** Per prompt (by its token ids joined with ','): the target's greedy output tokens. */
    private readonly recordings: ReadonlyMap<string, readonly number[]>,
    readonly acceptRate: number,
    readonly vocabSize: number,
    seed = 1,
  ) {
    this.state = seed >>> 0 || 1;
  }

  async propose(requests: readonly EngineRequest[], k: number): Promise<void> {
    for (const req of requests) {
      const rec = this.recordings.get(req.promptTokenIds.join(','));
      const from = req.outputTokenIds.length;
      const drafts: number[] = [];
      for (let i = from; rec && i < rec.length && drafts.length < k; i++) {
        drafts.push(this.uniform() < this.acceptRate ? rec[i] : (rec[i] + 1 + Math.floor(this.uniform() * (this.vocabSize - 1))) % this.vocabSize);
      }
      req.draftTokenIds = drafts;
    }
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
