// Runs a checkpoint on the CPU backend over the tiny reference prompts (text, one image, two
// images) and returns every prompt position's scored-token logprob and top-k, for comparing an
// FP8 load with its dense twin (bit for bit) or with the bf16 model (drift).
import type { Backend } from '../../src/backend/backend.js';
import type { LinearQuantization } from '../../src/backend/backend.js';
import { openCheckpoint } from '../../src/model/checkpoint.js';
import { createRunner } from '../../src/model/modelRunner.js';
import type { TokenLogprobs } from '../../src/model/sampling.js';
import { generate } from './engineGenerate.js';
import { readModelReference } from './modelReference.js';

export interface PromptScores {
  readonly name: string;
  /** Per position 1..n-1 of prompt + continuation: the scored token's logprob and the top-k. */
  readonly positions: TokenLogprobs[];
}

export async function scorePrompts(dir: string, model: 'tiny-a' | 'tiny-b', backend: Backend, quantize?: LinearQuantization): Promise<PromptScores[]> {
  const ref = readModelReference(model);
  const ck = await openCheckpoint(dir);
  const runner = await createRunner({ weights: ck.weights, backend, maxModelLen: 256, maxNumSeqs: 1, maxNumBatchedTokens: 256, load: { quantize } });
  try {
    const out: PromptScores[] = [];
    for (const p of ref.prompts) {
      const r = await generate(runner, ck.weights.config, p.sequence, p.images, { maxTokens: 1, temperature: 0, promptLogprobs: ref.topK, ignoreEos: true });
      out.push({ name: p.name, positions: (r.promptLogprobs ?? []).slice(1).map((lp) => lp!) });
    }
    return out;
  } finally {
    await runner.close();
    await ck.weights.close();
  }
}
