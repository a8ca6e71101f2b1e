// Builds the Speculator a speculative config asks for (ngram or draft_model; the benchmark's
// replay is built by the benchmark, which holds the recordings).
import type { ModelRunner } from '../../model/runner.js';
import type { SpeculativeConfig } from './config.js';
import { DraftModelProposer } from './draftModel.js';
import { NgramProposer } from './ngram.js';
import { Speculator } from './speculator.js';

export interface SpeculatorTarget {
  readonly vocabSize: number;
  readonly eosTokenId: number;
}

/** `draftRunner` is the draft model's runner for draft_model (closed with the speculator, or
 *  here when the draft does not fit the target). */
export async function createSpeculator(config: SpeculativeConfig, target: SpeculatorTarget, draftRunner: ModelRunner | null): Promise<Speculator> {
  switch (config.method) {
    case 'ngram':
      // Adaptive: a sequence whose lookups are not accepted stops proposing for a while.
      return new Speculator(new NgramProposer(config.promptLookupMin, config.promptLookupMax), config.numSpeculativeTokens, true);
    case 'draft_model': {
      if (!draftRunner) throw new Error('draft_model speculation needs the draft model loaded');
      try {
        return new Speculator(new DraftModelProposer(draftRunner, target.vocabSize, target.eosTokenId), config.numSpeculativeTokens, false);
      } catch (err) {
        await draftRunner.close();
        throw err;
      }
    }
    case 'replay':
      throw new Error("the 'replay' method is built by `tramontane bench latency` only");
  }
}
