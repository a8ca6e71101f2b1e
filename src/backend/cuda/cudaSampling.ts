// Sampling and logprobs on the GPU (kernels/sampling.cu). The host turns each request's
// sparse edits (logit bias, banned ids, penalties) into a short list and its parameters into
// one row of doubles; the rows of logits never leave the device, only ids and logprobs do.
import type { SampleRequest, ScoreRequest } from '../backend.js';
import type { SampledToken, SeqSampling, TokenLogprobs } from '../sampling/types.js';
import { drawKey } from '../sampling/counterRandom.js';
import { SAMPLING_EPS } from '../sampling/sampleRow.js';
import type { CudaContext } from './cudaContext.js';
import type { CudaTensor } from './cudaTensor.js';
import { rowsCols } from '../tensorShape.js';

const BLOCK = 1024;

/** (bias, banned, repetition penalty, subtract) per token id that one request edits. */
function adjustments(p: SeqSampling, vocab: number): Map<number, [number, number, number, number]> {
  const edits = new Map<number, [number, number, number, number]>();
  const at = (id: number): [number, number, number, number] | null => {
    if (!Number.isInteger(id) || id < 0 || id >= vocab) return null;
    let e = edits.get(id);
    if (!e) edits.set(id, (e = [0, 0, 1, 0]));
    return e;
  };
  if (p.logitBias) for (const [id, bias] of p.logitBias) { const e = at(id); if (e) e[0] += bias; }
  for (const id of p.bannedTokenIds) { const e = at(id); if (e) e[1] = 1; }
  if (p.repetitionPenalty !== 1) {
    for (const id of [...p.promptTokenIds, ...p.outputTokenIds]) { const e = at(id); if (e) e[2] = p.repetitionPenalty; }
  }
  if (p.frequencyPenalty !== 0 || p.presencePenalty !== 0) {
    const counts = new Map<number, number>();
    for (const id of p.outputTokenIds) counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const [id, c] of counts) { const e = at(id); if (e) e[3] = p.frequencyPenalty * c + p.presencePenalty; }
  }
  return edits;
}

export class CudaSampler {
  constructor(private readonly ctx: CudaContext) {}

  private kernel(name: string, types: Parameters<CudaContext['kernels']['kernel']>[2]) {
    return this.ctx.kernels.kernel('sampling.cu', name, types);
  }

  private checkRow(row: number, rows: number, what: string): void {
    if (!Number.isInteger(row) || row < 0 || row >= rows) throw new Error(`${what}: row ${row} outside logits of ${rows} rows`);
  }

  async sample(logits: CudaTensor, requests: readonly SampleRequest[]): Promise<SampledToken[]> {
    const r = requests.length;
    if (r === 0) return [];
    const [rows, vocab] = rowsCols(logits);
    const stream = this.ctx.stream;
    const rowIds = Int32Array.from(requests, (q) => (this.checkRow(q.row, rows, 'sample'), q.row));
    this.applyBitmasks(logits, requests, vocab);
    const work = this.ctx.scratchBuffer('sample.work', r * vocab * 4);
    const blocksPerRow = Math.min(64, Math.ceil(vocab / BLOCK));
    this.kernel('gather_logits', ['ptr', 'ptr', 'ptr', 'i32']).launch({ grid: [blocksPerRow, r, 1], block: [BLOCK, 1, 1] }, stream, [work, logits.ptr, this.ctx.upload('sample.rows', rowIds), vocab]);

    const adj: number[] = [];
    requests.forEach((q, i) => {
      for (const [id, e] of adjustments(q.params, vocab)) adj.push(i, id, ...e);
    });
    if (adj.length > 0) {
      const n = adj.length / 6;
      this.kernel('apply_adjustments', ['ptr', 'ptr', 'i32', 'i32']).launch({ grid: [Math.ceil(n / 256), 1, 1], block: [256, 1, 1] }, stream, [work, this.ctx.upload('sample.adj', Float32Array.from(adj)), n, vocab]);
    }

    const params = new Float64Array(r * 8);
    requests.forEach((q, i) => {
      const p = q.params;
      params.set([q.row, p.temperature, p.topK, p.topP, p.minP, drawKey(p.seed, p.step)], i * 8);
    });
    const ids = this.ctx.scratchBuffer('sample.ids', r * 4);
    const wantTopP = requests.some((q) => q.params.temperature >= SAMPLING_EPS && q.params.topP < 1);
    const mass = wantTopP ? this.ctx.scratchBuffer('sample.mass', r * vocab * 8) : 0n;
    this.kernel('sample_rows', ['ptr', 'ptr', 'ptr', 'ptr', 'i32']).launch({ grid: [r, 1, 1], block: [BLOCK, 1, 1] }, stream, [ids, work, mass, this.ctx.upload('sample.params', params), vocab]);

    const wantLogprobs = requests.some((q) => q.params.numLogprobs >= 0);
    const lp = wantLogprobs
      ? this.logprobs(logits, requests.map((q) => [q.row, -1, Math.max(0, q.params.numLogprobs)] as const), ids)
      : null;
    await this.ctx.whenIdle();
    const tokenIds = new Int32Array(r);
    this.ctx.driver.copyDtoH(tokenIds, ids, stream);
    const results = lp ? this.readLogprobs(lp) : null;
    if (!lp) this.ctx.synchronize();
    return requests.map((q, i) => ({
      tokenId: tokenIds[i],
      logprobs: q.params.numLogprobs >= 0 && results ? results[i] : null,
    }));
  }

  /** Constrained rows: their token bitmasks applied to the logits in place (before the draw
   *  and the logprobs, which read `logits`). */
  private applyBitmasks(logits: CudaTensor, requests: readonly SampleRequest[], vocab: number): void {
    const masked = requests.filter((q) => q.params.allowedTokens);
    if (masked.length === 0) return;
    const words = Math.ceil(vocab / 32);
    const packed = new Int32Array(masked.length * words);
    masked.forEach((q, i) => {
      const m = q.params.allowedTokens!;
      if (m.length < words) throw new Error(`sample: token bitmask of ${m.length} words for a vocabulary of ${vocab}`);
      packed.set(m.subarray(0, words), i * words);
    });
    const maskRows = Int32Array.from(masked, (q) => q.row);
    this.ctx.kernels.kernel('token_bitmask.cu', 'apply_token_bitmask', ['ptr', 'ptr', 'ptr', 'i32', 'i32']).launch(
      { grid: [Math.ceil(words / 256), masked.length, 1], block: [256, 1, 1] },
      this.ctx.stream,
      [logits.ptr, this.ctx.upload('sample.bitmask', packed), this.ctx.upload('sample.bitmaskRows', maskRows), vocab, words],
    );
  }

  async score(logits: CudaTensor, requests: readonly ScoreRequest[]): Promise<TokenLogprobs[]> {
    if (requests.length === 0) return [];
    const [rows, vocab] = rowsCols(logits);
    for (const q of requests) {
      this.checkRow(q.row, rows, 'score');
      if (!Number.isInteger(q.targetTokenId) || q.targetTokenId < 0 || q.targetTokenId >= vocab) {
        throw new Error(`score: target token ${q.targetTokenId} outside the vocabulary of ${vocab}`);
      }
    }
    const lp = this.logprobs(logits, requests.map((q) => [q.row, q.targetTokenId, Math.max(0, q.numLogprobs)] as const), 0n);
    await this.ctx.whenIdle();
    return this.readLogprobs(lp);
  }

  /** Queues token_logprobs; `sampledIds` supplies the token where the target is -1. */
  private logprobs(logits: CudaTensor, reqs: readonly (readonly [number, number, number])[], sampledIds: bigint) {
    const r = reqs.length;
    const vocab = rowsCols(logits)[1];
    const maxTop = Math.max(0, ...reqs.map((q) => q[2]));
    const req = new Int32Array(r * 4);
    reqs.forEach((q, i) => req.set([q[0], q[1], q[2], 0], i * 4));
    const outF = this.ctx.scratchBuffer('logprobs.f', r * (1 + maxTop) * 8);
    const outI = this.ctx.scratchBuffer('logprobs.i', r * (2 + maxTop) * 4);
    this.kernel('token_logprobs', ['ptr', 'ptr', 'ptr', 'ptr', 'ptr', 'i32', 'i32']).launch(
      { grid: [r, 1, 1], block: [BLOCK, 1, 1] }, this.ctx.stream,
      [outF, outI, logits.ptr, this.ctx.upload('logprobs.req', req), sampledIds, vocab, maxTop],
    );
    return { r, maxTop, outF, outI, reqs };
  }

  private readLogprobs(lp: ReturnType<CudaSampler['logprobs']>): TokenLogprobs[] {
    const f = new Float64Array(lp.r * (1 + lp.maxTop));
    const n = new Int32Array(lp.r * (2 + lp.maxTop));
    this.ctx.driver.copyDtoH(f, lp.outF, this.ctx.stream);
    this.ctx.driver.copyDtoH(n, lp.outI, this.ctx.stream);
    this.ctx.synchronize();
    return lp.reqs.map((q, i) => {
      const fb = i * (1 + lp.maxTop);
      const ib = i * (2 + lp.maxTop);
      const top: (readonly [number, number])[] = [];
      for (let j = 0; j < q[2]; j++) top.push([n[ib + 2 + j], f[fb + 1 + j]]);
      return { logprob: f[fb], rank: n[ib + 1], top };
    });
  }
}
