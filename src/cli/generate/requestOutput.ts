// `tramontane generate --json`: one object shaped like vLLM's RequestOutput, in snake_case, from
// the engine's RequestOutput. decoded_token comes from `decode` (the token's text as the stream
// shows it), not from the engine's token names.
import type { PositionLogprobs, RequestOutput } from '../../engine/outputs.js';

/** vLLM's Logprob. */
interface LogprobJson {
  logprob: number;
  rank: number;
  decoded_token: string;
}

/** id -> Logprob for the top alternatives plus the chosen token (vLLM's per-position dict).
 *  The engine lists the chosen token first, then the alternatives. */
function positionJson(position: PositionLogprobs, decode: (id: number) => string): Record<string, LogprobJson> {
  const out: Record<string, LogprobJson> = {};
  const [chosen, ...others] = position;
  for (const e of others) out[e.tokenId] = { logprob: e.logprob, rank: e.rank, decoded_token: decode(e.tokenId) };
  out[chosen.tokenId] = { logprob: chosen.logprob, rank: chosen.rank, decoded_token: decode(chosen.tokenId) };
  return out;
}

export function requestOutputJson(r: RequestOutput, decode: (id: number) => string): Record<string, unknown> {
  const seq = r.outputs[0];
  const logprobs = seq.logprobs ? seq.logprobs.map((p) => positionJson(p, decode)) : null;
  return {
    request_id: '0',
    prompt: r.prompt,
    prompt_token_ids: [...r.promptTokenIds],
    prompt_logprobs: r.promptLogprobs ? r.promptLogprobs.map((p) => (p === null ? null : positionJson(p, decode))) : null,
    outputs: [
      {
        index: 0,
        text: seq.text,
        token_ids: [...seq.tokenIds],
        cumulative_logprob: seq.logprobs ? seq.logprobs.reduce((a, p) => a + p[0].logprob, 0) : null,
        logprobs,
        finish_reason: seq.finishReason,
      },
    ],
    finished: true,
  };
}
