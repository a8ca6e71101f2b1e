// `tramontane generate --speculative-config`: the request runs through the engine (the
// scheduler verifies drafts; the plain generate loop has no speculation) on the loaded runner,
// with the same options and the same GenerateResult as the plain loop.
import { Engine, type EngineImage } from '../../engine/engine.js';
import type { PositionLogprobs } from '../../engine/outputs.js';
import { resolveSamplingParams } from '../../engine/samplingParams.js';
import type { Speculator } from '../../engine/speculative/speculator.js';
import type { EngineTokenizer } from '../../engine/tokenizerPort.js';
import type { GenerateOptions, GenerateResult } from '../../model/generateLoop.js';
import type { ModelRunner } from '../../model/runner.js';
import type { TokenLogprobs } from '../../model/sampling.js';

const idsOnly = (eosId: number): EngineTokenizer => ({
  bosId: 1,
  eosId,
  vocabSize: 1 << 30,
  encode: () => [],
  decode: () => '',
  tokenText: (id) => `<${id}>`,
  newDetokenizer: () => ({ push: () => '', flush: () => '' }),
});

/** The engine's per-position list (chosen token first, then alternatives) as the loop's TokenLogprobs. */
function toTokenLogprobs(pos: PositionLogprobs, k: number): TokenLogprobs {
  const chosen = pos[0];
  const top = [...pos].sort((a, b) => a.rank - b.rank).slice(0, k).map((e) => [e.tokenId, e.logprob] as const);
  return { logprob: chosen.logprob, rank: chosen.rank, top };
}

export async function generateWithEngine(
  runner: ModelRunner,
  promptIds: readonly number[],
  images: readonly EngineImage[],
  o: GenerateOptions,
  speculator: Speculator,
): Promise<GenerateResult> {
  // The engine is not closed: that would close the runner, which the caller owns.
  const engine = new Engine(runner, idsOnly(o.eosTokenId ?? 2), { maxNumSeqs: 1, speculator });
  const logprobs = o.logprobs !== undefined && o.logprobs >= 0 ? o.logprobs : null;
  const promptLogprobs = o.promptLogprobs !== undefined && o.promptLogprobs >= 0 ? o.promptLogprobs : null;
  const params = resolveSamplingParams(
    {
      maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, topP: o.topP, minP: o.minP, seed: o.seed,
      presencePenalty: o.presencePenalty, frequencyPenalty: o.frequencyPenalty, repetitionPenalty: o.repetitionPenalty,
      logprobs: logprobs ?? undefined, promptLogprobs: promptLogprobs ?? undefined, stopTokenIds: o.stopTokenIds ? [...o.stopTokenIds] : undefined,
      ignoreEos: o.ignoreEos,
    },
    runner.limits.vocabSize,
  );
  const state = engine.add({ promptTokenIds: promptIds, images }, params);
  let seen = 0;
  let last = null;
  for await (const out of state.stream(false)) {
    const ids = out.outputs[0].tokenIds;
    for (; seen < ids.length; seen++) o.onToken?.(ids[seen]);
    last = out;
  }
  await speculator.close();
  if (!last) throw new Error('the request produced no output');
  const c = last.outputs[0];
  return {
    promptTokenIds: [...promptIds],
    promptLogprobs: last.promptLogprobs && promptLogprobs !== null ? last.promptLogprobs.map((p) => (p ? toTokenLogprobs(p, promptLogprobs) : null)) : null,
    tokenIds: [...c.tokenIds],
    logprobs: c.logprobs && logprobs !== null ? c.logprobs.map((p) => toTokenLogprobs(p, logprobs)) : null,
    finishReason: c.finishReason === 'stop' ? 'stop' : 'length',
  };
}
