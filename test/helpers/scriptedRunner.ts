// A ModelRunner that runs a real one (so the K/V cache, batching and images are exercised) but
// replaces each sampled token with a script: output position k of every sequence gets
// script(promptTokenIds)[k], then EOS. Makes a dummy-weight model "say" an exact tool call.
import type { ModelRunner } from '../../src/model/runner.js';
import { rowSamplings } from '../../src/model/sampling.js';

export type Script = (promptTokenIds: readonly number[]) => readonly number[];

export function scriptedRunner(inner: ModelRunner, script: Script, eosId: number): ModelRunner {
  return {
    kvCache: inner.kvCache,
    limits: inner.limits,
    async execute(batch, sampling, promptLogprobs) {
      const out = await inner.execute(batch, sampling, promptLogprobs);
      const sampled = out.sampled.map((t, i) => {
        const sp = rowSamplings(sampling[i])[0];
        if (!t || !sp) return t;
        return { tokenId: script(sp.promptTokenIds)[sp.step] ?? eosId, logprobs: t.logprobs };
      });
      return { ...out, sampled };
    },
    close: () => inner.close(),
  };
}
