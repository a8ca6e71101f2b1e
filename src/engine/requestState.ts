// The engine's view of one user request: its n sequences, their text and logprobs as they
// grow, timing for metrics, and the waiters of its stream.
import type { PromptLogprobsChunk, SampledToken, TokenLogprobs } from '../model/sampling.js';
import type { CompletionOutput, PositionLogprobs, RequestOutput, TokenLogprob } from './outputs.js';
import { OutputText } from './outputText.js';
import type { EngineRequest, FinishReason } from './request.js';
import type { SamplingParams } from './samplingParams.js';
import type { EngineTokenizer } from './tokenizerPort.js';

class SequenceOutput {
  readonly text: OutputText;
  readonly logprobs: PositionLogprobs[] | null;
  cumulativeLogprob: number | null;
  /** Tokens the user sees (all of them unless a stop string cut the text). */
  finishReason: FinishReason | null = null;
  stopReason: string | number | null = null;

  constructor(
    readonly seq: EngineRequest,
    tokenizer: EngineTokenizer,
    params: SamplingParams,
  ) {
    this.text = new OutputText(tokenizer.newDetokenizer({ skipSpecialTokens: params.skipSpecialTokens }), params);
    this.logprobs = params.logprobs === null ? null : [];
    this.cumulativeLogprob = params.logprobs === null ? null : 0;
  }
}

export class RequestState {
  readonly seqs: SequenceOutput[];
  readonly promptLogprobs: (PositionLogprobs | null)[] | null;
  readonly arrivalTime = performance.now();
  firstTokenTime: number | null = null;
  lastTokenTime: number | null = null;
  error: Error | null = null;
  private version = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly id: string,
    readonly prompt: string | null,
    readonly promptTokenIds: readonly number[],
    readonly params: SamplingParams,
    children: readonly EngineRequest[],
    private readonly tokenizer: EngineTokenizer,
  ) {
    this.seqs = children.map((c) => new SequenceOutput(c, tokenizer, params));
    this.promptLogprobs = params.promptLogprobs === null ? null : [null];
  }

  get finished(): boolean {
    return this.error !== null || this.seqs.every((s) => s.finishReason !== null);
  }

  get numGeneratedTokens(): number {
    return this.seqs.reduce((n, s) => n + s.seq.outputTokenIds.length, 0);
  }

  /** Records a sampled token; returns the stop string it completed, if any. */
  addToken(index: number, token: SampledToken): string | null {
    const s = this.seqs[index];
    const now = performance.now();
    this.firstTokenTime ??= now;
    this.lastTokenTime = now;
    if (s.logprobs && token.logprobs) {
      s.logprobs.push(this.positionLogprobs(token.tokenId, token.logprobs));
      s.cumulativeLogprob = (s.cumulativeLogprob ?? 0) + token.logprobs.logprob;
    }
    const match = s.text.push(token.tokenId);
    this.changed();
    return match ? match.stop : null;
  }

  addPromptLogprobs(chunk: PromptLogprobsChunk): void {
    const list = this.promptLogprobs;
    if (!list) return;
    chunk.entries.forEach((entry, j) => {
      const pos = chunk.firstPosition + j;
      if (pos < list.length || pos >= this.promptTokenIds.length) return;
      list.push(this.positionLogprobs(this.promptTokenIds[pos], entry));
    });
    this.changed();
  }

  /** Marks sequence `index` finished; returns the stop string found in the last bytes, if any. */
  finishSeq(index: number, reason: FinishReason, stopReason: string | number | null): string | null {
    const s = this.seqs[index];
    if (s.finishReason !== null) return null;
    const late = s.text.finish();
    s.finishReason = late ? 'stop' : reason;
    s.stopReason = late ? late.stop : stopReason;
    this.changed();
    return late ? late.stop : null;
  }

  fail(error: Error): void {
    this.error ??= error;
    this.changed();
  }

  snapshot(streaming: boolean): RequestOutput {
    const outputs: CompletionOutput[] = this.seqs.map((s, index) => ({
      index,
      text: s.text.value(streaming && s.finishReason === null),
      tokenIds: [...s.seq.outputTokenIds],
      cumulativeLogprob: s.cumulativeLogprob,
      logprobs: s.logprobs ? [...s.logprobs] : null,
      finishReason: s.finishReason,
      stopReason: s.stopReason,
    }));
    return {
      requestId: this.id,
      prompt: this.prompt,
      promptTokenIds: this.promptTokenIds,
      promptLogprobs: this.promptLogprobs ? [...this.promptLogprobs] : null,
      outputs,
      finished: this.finished,
      numCachedTokens: this.seqs[0]?.seq.numCachedTokens ?? 0,
    };
  }

  /** Yields snapshots as the request progresses (coalesced: a slow reader skips none of the
   *  content, only intermediate snapshots), ending with the finished one. */
  async *stream(): AsyncGenerator<RequestOutput> {
    let seen = -1;
    while (true) {
      if (this.error) throw this.error;
      if (this.version !== seen) {
        seen = this.version;
        const out = this.snapshot(true);
        yield out;
        if (out.finished) return;
        continue;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private changed(): void {
    this.version++;
    const w = this.waiters;
    this.waiters = [];
    for (const resolve of w) resolve();
  }

  private positionLogprobs(chosen: number, lp: TokenLogprobs): TokenLogprob[] {
    const out: TokenLogprob[] = [{ tokenId: chosen, logprob: lp.logprob, rank: lp.rank, decodedToken: this.tokenizer.tokenText(chosen) }];
    lp.top.forEach(([id, logprob], i) => {
      if (id !== chosen) out.push({ tokenId: id, logprob, rank: i + 1, decodedToken: this.tokenizer.tokenText(id) });
    });
    return out;
  }
}
