// The engine's side of speculative decoding: before each schedule, asks the proposer for drafts
// for the decoding sequences; after each step, counts what was verified and accepted (vLLM's
// spec_decode metrics) and, when adaptive, backs a sequence off after a proposal with nothing
// accepted (1, 2, 4, ... up to MAX_COOLDOWN steps without proposing), so a method that does not
// fit the text costs next to nothing: its verify steps become rare.
import type { EngineRequest } from '../request.js';
import type { SeqUpdate, StepPlan } from '../scheduler.js';
import type { SampledToken, StepOutput } from '../../model/sampling.js';
import type { Proposer } from './proposer.js';

const MAX_COOLDOWN = 64;

export interface SpecDecodeStats {
  /** Sequence-steps that verified at least one draft token (vllm:spec_decode_num_drafts). */
  numDrafts: number;
  /** Draft tokens verified (vllm:spec_decode_num_draft_tokens). */
  numDraftTokens: number;
  /** Draft tokens accepted (vllm:spec_decode_num_accepted_tokens). */
  numAcceptedTokens: number;
  /** [k] accepted tokens by draft position (vllm:spec_decode_num_accepted_tokens_per_pos). */
  readonly acceptedPerPosition: number[];
}

export class Speculator {
  readonly stats: SpecDecodeStats;
  private readonly backoff = new Map<string, { failures: number; skip: number }>();
  /** Requests the proposer has been asked about and not yet told to release. */
  private readonly known = new Set<string>();

  constructor(
    readonly proposer: Proposer,
    readonly numSpeculativeTokens: number,
    readonly adaptive: boolean,
  ) {
    this.stats = { numDrafts: 0, numDraftTokens: 0, numAcceptedTokens: 0, acceptedPerPosition: new Array<number>(numSpeculativeTokens).fill(0) };
  }

  /** Fills draftTokenIds of the running sequences that are decoding (empty for the others). */
  async prepare(running: readonly EngineRequest[]): Promise<void> {
    const alive = new Set<string>();
    const eligible: EngineRequest[] = [];
    for (const req of running) {
      alive.add(req.id);
      req.draftTokenIds = [];
      if (req.status !== 'running' || req.numComputedTokens !== req.numTokens - 1 || req.numComputedTokens < req.numPromptTokens) continue;
      // Grammar masks are one per sequence per step: constrained sequences decode one token at a time.
      if (req.params.structuredOutputs !== null) continue;
      const b = this.backoff.get(req.id);
      if (b && b.skip > 0) {
        b.skip--;
        continue;
      }
      eligible.push(req);
    }
    for (const id of [...this.known]) if (!alive.has(id)) this.release(id); // preempted, or ended unseen
    for (const req of eligible) this.known.add(req.id);
    if (eligible.length > 0) await this.proposer.propose(eligible, this.numSpeculativeTokens);
  }

  /** Records a step's verification results. */
  observe(plan: StepPlan, updates: readonly SeqUpdate[]): void {
    const byReq = new Map(updates.map((u) => [u.request, u]));
    for (const s of plan.seqs) {
      if (s.numDraftTokens === 0) continue;
      const u = byReq.get(s.request);
      if (!u) continue; // finished while the step ran
      const a = u.numAcceptedDrafts;
      this.stats.numDrafts++;
      this.stats.numDraftTokens += s.numDraftTokens;
      this.stats.numAcceptedTokens += a;
      for (let j = 0; j < a; j++) this.stats.acceptedPerPosition[j]++;
      this.proposer.accepted?.(s.request, a);
      if (!this.adaptive) continue;
      const b = this.backoff.get(s.request.id) ?? { failures: 0, skip: 0 };
      if (a === 0) {
        b.skip = Math.min(MAX_COOLDOWN, 2 ** b.failures);
        b.failures++;
      } else {
        b.failures = 0;
        b.skip = 0;
      }
      this.backoff.set(s.request.id, b);
    }
  }

  /** A proposer with scripted verdicts (benchmarks only): each sequence's sampled rows keep
   *  the drafts it scripts as accepted, up to its first scripted rejection, where the target's
   *  own token stands. Without such a proposer the output is returned as it is. */
  applyScript(plan: StepPlan, output: StepOutput): StepOutput {
    const script = this.proposer.scriptedVerdicts?.bind(this.proposer);
    if (!script || !output.sampledRows) return output;
    const sampledRows = output.sampledRows.map((rows, i) => {
      const s = plan.seqs[i];
      if (!rows || !s || s.numDraftTokens === 0) return rows;
      const verdicts = script(s.request.id) ?? [];
      const drafts = s.request.draftTokenIds;
      const kept: SampledToken[] = [...rows];
      for (let j = 0; j < s.numDraftTokens && verdicts[j] === true; j++) kept[j] = { ...kept[j], tokenId: drafts[j] };
      return kept;
    });
    const sampled = output.sampled.map((t, i) => {
      const rows = sampledRows[i];
      return rows && rows.length > 0 ? rows[rows.length - 1] : t;
    });
    return { ...output, sampled, sampledRows };
  }

  /** The request left the running set (finished, aborted, preempted). */
  release(requestId: string): void {
    this.backoff.delete(requestId);
    if (this.known.delete(requestId)) this.proposer.release?.(requestId);
  }

  async close(): Promise<void> {
    await this.proposer.close?.();
  }
}
