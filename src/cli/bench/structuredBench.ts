// bench latency --structured-outputs-json <schema.json>: a JSON-schema constraint on every
// sequence of the batch, through the engine's grammar worker (GrammarService), so a constrained
// step can be timed against a free one on the same model and prompts.
import { readFileSync } from 'node:fs';
import { GrammarService } from '../../engine/structured/grammarService.js';
import { grammarSpec, resolveStructuredOutputs, type GrammarSpec } from '../../engine/structured/resolveStructured.js';
import { Tekkenizer } from '../../tokenizer/tekkenizer.js';
import type { StepConstraint } from './batchLoop.js';

export class BenchConstraint {
  private run = 0;
  readonly compileMs: number;
  /** Worker time of the last fills, ms each (mask computation off the main thread). */
  readonly fillMs: number[] = [];

  private constructor(
    readonly service: GrammarService,
    readonly spec: GrammarSpec,
    compileMs: number,
  ) {
    this.compileMs = compileMs;
  }

  static async create(schemaFile: string, tokenizerPath: string, vocabSize: number): Promise<BenchConstraint> {
    const so = resolveStructuredOutputs({ json: readFileSync(schemaFile, 'utf8') });
    const spec = grammarSpec(so!);
    const t = Tekkenizer.fromFile(tokenizerPath);
    const service = new GrammarService({ vocabSize, tokenBytes: (id) => (id < t.vocabSize ? t.idToBytes(id) : new Uint8Array(0)), stopTokenIds: [t.eosId] }, { compileTimeoutMs: 600_000 });
    await service.compile(spec, '--structured-outputs-json');
    return new BenchConstraint(service, spec, service.compileMs(spec) ?? NaN);
  }

  /** A fresh matcher per sequence for one runBatch; close() it after. */
  forBatch(batchSize: number): StepConstraint & { close(): void } {
    const r = this.run++;
    const id = (s: number) => `r${r}-s${s}`;
    for (let s = 0; s < batchSize; s++) this.service.open(id(s), this.spec);
    return {
      masks: (seqs) => {
        const { masks, ready } = this.service.fillAsync(seqs.map(id));
        return { masks, ready: ready.then(() => void this.fillMs.push(this.service.lastFillMs)) };
      },
      accept: (seqs, tokens) => this.service.accept(seqs.map((s, i) => [id(s), tokens[i]] as const)),
      close: () => {
        for (let s = 0; s < batchSize; s++) this.service.closeSeq(id(s));
      },
    };
  }

  close(): Promise<void> {
    return this.service.close();
  }
}
