// The engine's hook for constrained decoding (kept apart from engine.ts): compiles a request's
// grammar before its sequences are scheduled, opens a matcher per sequence, asks for the masks
// of a step's constrained rows as soon as the step is built (the grammar worker fills them while
// the forward pass runs; the runner awaits them just before sampling), and advances the
// matchers with the tokens sampled.
//
// Matcher state is the sequence's accepted output tokens: a preempted sequence keeps its output
// (it is recomputed from its tokens), so its matcher stays valid. A completed grammar allows only
// EOS (finish_reason "stop"); max_tokens still cuts it ("length").
import type { BatchSampling, SeqSampling } from '../../model/sampling.js';
import type { SamplingParams } from '../samplingParams.js';
import type { StepPlan, SeqUpdate } from '../scheduler.js';
import type { EngineTokenizer } from '../tokenizerPort.js';
import { GrammarService, type GrammarServiceOptions } from './grammarService.js';
import { grammarSpec, specField } from './resolveStructured.js';
import { InvalidRequestError } from '../errors.js';

export class EngineGrammar {
  private service: GrammarService | null = null;

  constructor(
    private readonly tokenizer: EngineTokenizer,
    private readonly vocabSize: number,
    private readonly options: GrammarServiceOptions = {},
  ) {}

  /** The grammar worker, started on first use (its tokenizer info takes ~0.5 s to build). */
  grammar(): GrammarService {
    if (this.service) return this.service;
    const t = this.tokenizer;
    if (!t.tokenBytes) throw new InvalidRequestError('this tokenizer gives no token bytes: structured outputs are not available', 'structuredOutputs');
    const tokenBytes = t.tokenBytes.bind(t);
    this.service = new GrammarService(
      { vocabSize: this.vocabSize, tokenBytes: (id) => (id < t.vocabSize ? tokenBytes(id) : new Uint8Array(0)), stopTokenIds: [t.eosId] },
      this.options,
    );
    return this.service;
  }

  /** Compiles (or finds cached) the grammar of `params`; rejects with an InvalidRequestError. */
  async prepare(params: SamplingParams): Promise<void> {
    const so = params.structuredOutputs;
    if (!so) return;
    await this.grammar().compile(grammarSpec(so), specField(so));
  }

  /** Compiles, then opens a matcher for each sequence id. */
  async attach(params: SamplingParams, seqIds: readonly string[]): Promise<void> {
    const so = params.structuredOutputs;
    if (!so) return;
    const spec = grammarSpec(so);
    await this.grammar().compile(spec, specField(so));
    for (const id of seqIds) this.service!.open(id, spec);
  }

  /** Sampling params of the step with masks for its constrained rows, and the promise that they
   *  are filled; `ready` is undefined when no row is constrained. */
  stepMasks(plan: StepPlan, sampling: BatchSampling): { sampling: BatchSampling; ready: Promise<void> | undefined } {
    const g = this.service;
    if (!g) return { sampling, ready: undefined };
    const rows: number[] = [];
    plan.seqs.forEach((s, i) => {
      // Constrained sequences are never speculated: their entry is one row's params.
      if (sampling[i] && !Array.isArray(sampling[i]) && g.has(s.request.id)) rows.push(i);
    });
    if (rows.length === 0) return { sampling, ready: undefined };
    const { masks, ready } = g.fillAsync(rows.map((i) => plan.seqs[i].request.id));
    const out: BatchSampling[number][] = [...sampling];
    rows.forEach((i, k) => (out[i] = { ...(sampling[i] as SeqSampling), allowedTokens: masks[k] }));
    return { sampling: out, ready };
  }

  /** Advances the matchers by a step's sampled tokens. */
  onUpdates(updates: readonly SeqUpdate[]): void {
    const g = this.service;
    if (!g) return;
    const items: [string, number][] = [];
    for (const u of updates) if (g.has(u.request.id)) for (const t of u.sampled) items.push([u.request.id, t.tokenId]);
    g.accept(items);
  }

  release(seqId: string): void {
    this.service?.closeSeq(seqId);
  }

  async close(): Promise<void> {
    await this.service?.close();
  }
}
