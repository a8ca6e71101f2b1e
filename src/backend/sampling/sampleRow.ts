// The SeqSampling semantics on one row of logits, in vLLM's (v1 sampler) order:
//   raw logprobs are taken first (reported logprobs are of the raw distribution);
//   logit bias, banned ids (-inf); repetition, frequency and presence penalties;
//   greedy argmax when temperature < 1e-5; otherwise logits / temperature, min-p (relative to
//   the top probability), top-k, top-p (vLLM's ascending-cumsum rule), then an exponential-race
//   draw (argmax of p_i / E_i, E_i ~ Exp(1)) with E_i from the counter hash of (seed, step, i).
import type { SampledToken, SeqSampling } from '../sampling/types.js';
import { drawKey, uniformAt } from './counterRandom.js';
import { tokenLogprobs, topKIndices } from './rowLogprobs.js';

export const SAMPLING_EPS = 1e-5;

/** Samples one token from `raw` (not modified). */
export function sampleRow(raw: Float32Array, p: SeqSampling): SampledToken {
  const logits = new Float32Array(raw);
  applyBiasBansPenalties(logits, p);
  const tokenId = p.temperature < SAMPLING_EPS ? argmax(logits) : drawFiltered(logits, p);
  const logprobs = p.numLogprobs >= 0 ? tokenLogprobs(raw, tokenId, p.numLogprobs) : null;
  return { tokenId, logprobs };
}

export function applyBiasBansPenalties(logits: Float32Array, p: SeqSampling): void {
  const vocab = logits.length;
  if (p.logitBias) {
    for (const [id, bias] of p.logitBias) if (id >= 0 && id < vocab) logits[id] += bias;
  }
  for (const id of p.bannedTokenIds) if (id >= 0 && id < vocab) logits[id] = -Infinity;
  if (p.repetitionPenalty !== 1) {
    const seen = new Set<number>();
    for (const id of p.promptTokenIds) seen.add(id);
    for (const id of p.outputTokenIds) seen.add(id);
    for (const id of seen) {
      if (id < 0 || id >= vocab) continue;
      const v = logits[id];
      logits[id] = v > 0 ? v / p.repetitionPenalty : v * p.repetitionPenalty;
    }
  }
  if (p.frequencyPenalty !== 0 || p.presencePenalty !== 0) {
    const counts = new Map<number, number>();
    for (const id of p.outputTokenIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, count] of counts) {
      if (id < 0 || id >= vocab) continue;
      logits[id] -= p.frequencyPenalty * count + p.presencePenalty;
    }
  }
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function drawFiltered(logits: Float32Array, p: SeqSampling): number {
  const vocab = logits.length;
  for (let i = 0; i < vocab; i++) logits[i] /= p.temperature;
  let max = -Infinity;
  for (let i = 0; i < vocab; i++) if (logits[i] > max) max = logits[i];
  if (p.minP > 0) {
    // probs_i / max_prob = exp(l_i - max); drop those below minP.
    const cut = max + Math.log(p.minP);
    for (let i = 0; i < vocab; i++) if (logits[i] < cut) logits[i] = -Infinity;
  }
  const useTopK = p.topK > 0 && p.topK < vocab;
  if (useTopK || p.topP < 1) {
    // Candidates sorted ascending, as vLLM's apply_top_k_top_p does. Top-k masks entries below
    // the k-th largest value (ties with it survive); finding that value first keeps the sort small.
    let order: number[];
    if (useTopK) {
      const top = topKIndices(logits, p.topK);
      const kth = logits[top[top.length - 1]];
      order = [];
      for (let i = 0; i < vocab; i++) if (logits[i] >= kth && logits[i] > -Infinity) order.push(i);
    } else {
      order = [];
      for (let i = 0; i < vocab; i++) if (logits[i] > -Infinity) order.push(i);
    }
    order.sort((a, b) => logits[a] - logits[b] || b - a);
    if (p.topP < 1 && order.length > 0) {
      let sum = 0;
      for (const i of order) sum += Math.exp(logits[i] - max);
      let cum = 0;
      const keep: number[] = [];
      for (let j = 0; j < order.length; j++) {
        cum += Math.exp(logits[order[j]] - max) / sum;
        if (cum > 1 - p.topP || j === order.length - 1) keep.push(order[j]);
      }
      order = keep;
    }
    const allowed = new Uint8Array(vocab);
    for (const i of order) allowed[i] = 1;
    for (let i = 0; i < vocab; i++) if (!allowed[i]) logits[i] = -Infinity;
  }
  const key = drawKey(p.seed, p.step);
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < vocab; i++) {
    if (logits[i] === -Infinity) continue;
    // argmax p_i / E_i  ==  argmax l_i - log(E_i), E_i = -log(u_i).
    const score = logits[i] - Math.log(-Math.log(uniformAt(key, i)));
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best < 0 ? argmax(logits) : best;
}
