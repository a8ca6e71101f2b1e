// What proposes draft tokens for speculative decoding. A proposer fills request.draftTokenIds
// for the sequences it is given; the scheduler verifies them in the next step (one row per
// draft plus one, see scheduler.update) and the speculator reports back how many held.
//
// Every proposer here proposes a point mass (one token per position, not a distribution).
// Leviathan et al.'s rejection sampling with a point-mass draft q = δ(d) accepts d with
// probability min(1, p(d)/q(d)) = p(d) and on rejection samples the residual
// norm(max(0, p - q)) = p without d, renormalised. The verify step realises exactly that by
// drawing the target's token x ~ p (the same seeded draw the step without speculation makes
// for that output position) and accepting iff x = d: P(accept) = p(d), and given a rejection
// x is distributed as p(x) / (1 - p(d)) over x != d. Under greedy this is exact match. So the
// output distribution is the target's, and a seeded request yields the very tokens it yields
// without speculation.
import type { EngineRequest } from '../request.js';

export interface Proposer {
  /** Sets draftTokenIds (at most `k`, possibly none) of each request; they are decoding: every
   *  token but the last is in the target's KV cache, the prompt is done. */
  propose(requests: readonly EngineRequest[], k: number): Promise<void>;
  /** After a verify step: `numAccepted` of the request's drafts were accepted. */
  accepted?(request: EngineRequest, numAccepted: number): void;
  /** Forgets a request (finished, aborted or preempted): what it held returns to its pools. */
  release?(requestId: string): void;
  close?(): Promise<void>;
  /** Benchmarking only (replay.ts): per draft of the request's current proposal, whether it
   *  counts as accepted regardless of the target's token (Speculator.applyScript). */
  scriptedVerdicts?(requestId: string): readonly boolean[] | undefined;
}
