// Turns a StepPlan into the runner's ForwardBatch, BatchSampling and prompt-logprob requests.
import type { BatchImage, ForwardBatch } from '../model/forwardBatch.js';
import type { BatchSampling, PromptLogprobsRequest, SeqSampling } from '../model/sampling.js';
import type { BlockManager } from './blockManager.js';
import type { EngineRequest } from './request.js';
import type { StepPlan } from './scheduler.js';

export interface BuiltStep {
  readonly batch: ForwardBatch;
  readonly sampling: BatchSampling;
  /** null when no sequence of the step wants prompt logprobs. */
  readonly promptLogprobs: (PromptLogprobsRequest | null)[] | null;
}

export function buildStep(plan: StepPlan, blocks: BlockManager, eosTokenId: number): BuiltStep {
  const bs = blocks.blockSize;
  const numSeqs = plan.seqs.length;
  const numTokens = plan.seqs.reduce((n, s) => n + s.numNewTokens, 0);
  let maxBlocksPerSeq = 0;
  for (const s of plan.seqs) maxBlocksPerSeq = Math.max(maxBlocksPerSeq, blocks.blockTable(s.request.id).length);

  const tokenIds = new Int32Array(numTokens);
  const positions = new Int32Array(numTokens);
  const slotMapping = new Int32Array(numTokens);
  const queryLens = new Int32Array(numSeqs);
  const contextLens = new Int32Array(numSeqs);
  const blockTables = new Int32Array(numSeqs * maxBlocksPerSeq).fill(-1);
  const sampleMask = new Uint8Array(numSeqs);
  const images: BatchImage[] = [];
  const sampling: (SeqSampling | SeqSampling[] | null)[] = [];
  let promptLogprobs: (PromptLogprobsRequest | null)[] | null = null;

  let row = 0;
  plan.seqs.forEach((s, i) => {
    const req = s.request;
    const table = blocks.blockTable(req.id);
    const start = s.startPosition;
    const end = start + s.numNewTokens;
    if (table.length * bs < end) throw new Error(`request ${req.id}: block table holds ${table.length * bs} tokens, step needs ${end}`);
    for (let p = start; p < end; p++, row++) {
      tokenIds[row] = req.tokenAt(p);
      positions[row] = p;
      slotMapping[row] = table[Math.floor(p / bs)] * bs + (p % bs);
    }
    queryLens[i] = s.numNewTokens;
    contextLens[i] = end;
    blockTables.set(table, i * maxBlocksPerSeq);
    sampleMask[i] = s.sample ? 1 : 0;
    const firstRow = row - s.numNewTokens;
    for (const img of req.images) {
      const a = Math.max(start, img.spanStart);
      const b = Math.min(end, img.spanStart + img.spanLength);
      if (a >= b) continue;
      images.push({
        key: img.key,
        pixels: img.pixels,
        height: img.height,
        width: img.width,
        batchStart: firstRow + (a - start),
        length: b - a,
        spanOffset: a - img.spanStart,
      });
    }
    if (!s.sample) sampling.push(null);
    else if (s.numDraftTokens === 0) sampling.push(seqSampling(req, eosTokenId, 0));
    else sampling.push(Array.from({ length: s.numDraftTokens + 1 }, (_, j) => seqSampling(req, eosTokenId, j)));
    const plReq = promptLogprobsRequest(req, start, end);
    if (plReq) {
      promptLogprobs ??= new Array<PromptLogprobsRequest | null>(numSeqs).fill(null);
      promptLogprobs[i] = plReq;
    }
  });

  const batch: ForwardBatch = { tokenIds, positions, queryLens, contextLens, slotMapping, blockTables, maxBlocksPerSeq, images, sampleMask };
  return { batch, sampling, promptLogprobs };
}

/** The sampling of the row that follows `numDrafts` of the request's draft tokens (0: the
 *  row after its last real token), as the step without speculation would sample it. */
export function seqSampling(req: EngineRequest, eosTokenId: number, numDrafts: number): SeqSampling {
  const p = req.params;
  const banned: number[] = [];
  const outputs = numDrafts === 0 ? req.outputTokenIds : [...req.outputTokenIds, ...req.draftTokenIds.slice(0, numDrafts)];
  if (outputs.length < p.minTokens) {
    if (!p.ignoreEos) banned.push(eosTokenId);
    for (const id of p.stopTokenIds) if (!banned.includes(id)) banned.push(id);
  }
  return {
    temperature: p.temperature,
    topK: p.topK,
    topP: p.topP,
    minP: p.minP,
    seed: req.seed,
    step: outputs.length,
    presencePenalty: p.presencePenalty,
    frequencyPenalty: p.frequencyPenalty,
    repetitionPenalty: p.repetitionPenalty,
    promptTokenIds: req.promptTokenIds,
    outputTokenIds: outputs,
    logitBias: p.logitBias,
    bannedTokenIds: banned,
    numLogprobs: p.logprobs ?? 0,
  };
}

/** Rows of this step that predict prompt tokens not yet scored (row j predicts position
 *  start + j + 1). */
function promptLogprobsRequest(req: EngineRequest, start: number, end: number): PromptLogprobsRequest | null {
  const k = req.params.promptLogprobs;
  if (k === null) return null;
  const promptLen = req.numPromptTokens;
  if (start + 1 >= promptLen || end < req.promptLogprobsUpTo) return null;
  const targets = new Int32Array(end - start).fill(-1);
  let any = false;
  for (let p = start; p < end; p++) {
    const target = p + 1;
    if (target < promptLen && target >= req.promptLogprobsUpTo) {
      targets[p - start] = req.tokenAt(target);
      any = true;
    }
  }
  return any ? { numLogprobs: k, targetTokenIds: targets } : null;
}
