// `tramontane generate --json`: one object shaped like vLLM's RequestOutput, in snake_case.
import type { GenerateResult } from '../../model/generateLoop.js';
import type { TokenLogprobs } from '../../model/sampling.js';

/** vLLM's Logprob. */
interface LogprobJson {
  logprob: number;
  rank: number;
  decoded_token: string;
}

/** id -> Logprob for the top alternatives plus the chosen token (vLLM's per-position dict). */
function positionJson(chosen: number, lp: TokenLogprobs, decode: (id: number) => string): Record<string, LogprobJson> {
  const out: Record<string, LogprobJson> = {};
  lp.top.forEach(([id, logprob], i) => (out[id] = { logprob, rank: i + 1, decoded_token: decode(id) }));
  out[chosen] = { logprob: lp.logprob, rank: lp.rank, decoded_token: decode(chosen) };
  return out;
}

export function requestOutputJson(
  r: GenerateResult,
  prompt: string | null,
  text: string,
  decode: (id: number) => string,
): Record<string, unknown> {
  const promptLogprobs = r.promptLogprobs
    ? r.promptLogprobs.map((lp, i) => (lp === null ? null : positionJson(r.promptTokenIds[i], lp, decode)))
    : null;
  const logprobs = r.logprobs ? r.logprobs.map((lp, i) => positionJson(r.tokenIds[i], lp, decode)) : null;
  return {
    request_id: '0',
    prompt,
    prompt_token_ids: r.promptTokenIds,
    prompt_logprobs: promptLogprobs,
    outputs: [
      {
        index: 0,
        text,
        token_ids: r.tokenIds,
        cumulative_logprob: r.logprobs ? r.logprobs.reduce((a, lp) => a + lp.logprob, 0) : null,
        logprobs,
        finish_reason: r.finishReason,
      },
    ],
    finished: true,
  };
}
