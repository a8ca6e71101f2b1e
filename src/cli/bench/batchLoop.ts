// Generates for a batch of token prompts at once over a ModelRunner, as vLLM's latency benchmark
// does: all prompts prefilled (in steps of at most maxNumBatchedTokens), then every sequence
// decodes one token a step together, ignoring EOS, for exactly outputLen tokens.
import type { ForwardBatch } from '../../model/forwardBatch.js';
import type { ModelRunner } from '../../model/runner.js';
import type { SeqSampling } from '../../model/sampling.js';

/** Wall-clock split of one runBatch: prompt steps up to the first sampled tokens, then the
 *  decode steps (outputLen - 1 of them). */
export interface BatchTiming {
  prefillSeconds: number;
  decodeSeconds: number;
}

/** Constrained decoding in the loop (bench latency --structured-outputs-json): the masks of the
 *  sampled sequences are asked for as each step is issued and awaited by the runner just before
 *  sampling, as the engine does; the sampled tokens advance the matchers. */
export interface StepConstraint {
  masks(seqs: readonly number[]): { masks: Int32Array[]; ready: Promise<void> };
  accept(seqs: readonly number[], tokens: readonly number[]): void;
}

export async function runBatch(runner: ModelRunner, prompts: readonly number[][], outputLen: number, timing?: BatchTiming, constraint?: StepConstraint): Promise<number[][]> {
  const t0 = process.hrtime.bigint();
  const { blockSize, numBlocks } = runner.kvCache;
  const maxLen = Math.max(...prompts.map((p) => p.length)) + outputLen;
  const blocksPer = Math.ceil(maxLen / blockSize);
  if (blocksPer * prompts.length > numBlocks) throw new Error(`KV cache of ${numBlocks} blocks cannot hold ${prompts.length} sequences of ${maxLen} tokens`);
  const outputs = prompts.map(() => [] as number[]);
  const greedy = (s: number): SeqSampling => ({
    temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0, step: outputs[s].length, presencePenalty: 0, frequencyPenalty: 0,
    repetitionPenalty: 1, promptTokenIds: prompts[s], outputTokenIds: outputs[s], logitBias: null, bannedTokenIds: [], numLogprobs: -1,
  });
  const blockTables = Int32Array.from({ length: prompts.length * blocksPer }, (_, i) => i);
  // Each entry: sequence s, tokens [from, from + ids.length) of its full sequence.
  const step = async (parts: { s: number; from: number; ids: number[]; sample: boolean }[]) => {
    const tokenIds: number[] = [];
    const positions: number[] = [];
    const slots: number[] = [];
    for (const p of parts) {
      p.ids.forEach((id, j) => {
        tokenIds.push(id);
        positions.push(p.from + j);
        slots.push(p.s * blocksPer * blockSize + p.from + j);
      });
    }
    const batch: ForwardBatch = {
      tokenIds: Int32Array.from(tokenIds),
      positions: Int32Array.from(positions),
      queryLens: Int32Array.from(parts.map((p) => p.ids.length)),
      contextLens: Int32Array.from(parts.map((p) => p.from + p.ids.length)),
      slotMapping: Int32Array.from(slots),
      blockTables: Int32Array.from(parts.flatMap((p) => Array.from(blockTables.subarray(p.s * blocksPer, (p.s + 1) * blocksPer)))),
      maxBlocksPerSeq: blocksPer,
      images: [],
      sampleMask: Uint8Array.from(parts.map((p) => (p.sample ? 1 : 0))),
    };
    const sampled = parts.filter((p) => p.sample).map((p) => p.s);
    const m = constraint && sampled.length > 0 ? constraint.masks(sampled) : null;
    const sampling = parts.map((p) => (p.sample ? { ...greedy(p.s), allowedTokens: m ? m.masks[sampled.indexOf(p.s)] : null } : null));
    const res = await runner.execute(batch, sampling, undefined, m?.ready);
    const tokens: number[] = [];
    parts.forEach((p, i) => {
      const t = res.sampled[i];
      if (p.sample && t) {
        outputs[p.s].push(t.tokenId);
        tokens.push(t.tokenId);
      }
    });
    if (constraint && sampled.length > 0) constraint.accept(sampled, tokens);
  };
  // Prefill: pack prompt chunks into steps under the token and sequence budgets.
  const budget = runner.limits.maxNumBatchedTokens;
  let parts: { s: number; from: number; ids: number[]; sample: boolean }[] = [];
  let used = 0;
  for (let s = 0; s < prompts.length; s++) {
    for (let from = 0; from < prompts[s].length; ) {
      if (used === budget || parts.length === runner.limits.maxNumSeqs) {
        await step(parts);
        parts = [];
        used = 0;
      }
      const take = Math.min(budget - used, prompts[s].length - from);
      parts.push({ s, from, ids: prompts[s].slice(from, from + take), sample: from + take === prompts[s].length });
      used += take;
      from += take;
    }
  }
  if (parts.length > 0) await step(parts);
  const t1 = process.hrtime.bigint();
  while (outputs[0].length < outputLen) {
    await step(prompts.map((p, s) => ({ s, from: p.length + outputs[s].length - 1, ids: [outputs[s][outputs[s].length - 1]], sample: true })));
  }
  if (timing) {
    timing.prefillSeconds = Number(t1 - t0) / 1e9;
    timing.decodeSeconds = Number(process.hrtime.bigint() - t1) / 1e9;
  }
  return outputs;
}
