// Logprobs in the two OpenAI shapes: completions' parallel lists and chat's per-token objects.
import type { PositionLogprobs } from '../engine/outputs.js';

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

export function completionLogprobs(positions: readonly (PositionLogprobs | null)[], startOffset: number, fallbackTokens?: readonly string[]): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = startOffset;
  positions.forEach((pos, i) => {
    const token = pos ? pos[0].decodedToken : (fallbackTokens?.[i] ?? '');
    out.tokens.push(token);
    out.token_logprobs.push(pos ? pos[0].logprob : null);
    out.top_logprobs.push(pos ? Object.fromEntries(pos.map((e) => [e.decodedToken, e.logprob])) : null);
    out.text_offset.push(offset);
    offset += token.length;
  });
  return out;
}

interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export function chatLogprobs(positions: readonly PositionLogprobs[], topK: number): { content: (ChatTokenLogprob & { top_logprobs: ChatTokenLogprob[] })[] } {
  const entry = (t: { decodedToken: string; logprob: number }): ChatTokenLogprob => ({
    token: t.decodedToken,
    logprob: Math.max(t.logprob, -9999),
    bytes: [...Buffer.from(t.decodedToken, 'utf8')],
  });
  return {
    content: positions.map((pos) => ({
      ...entry(pos[0]),
      top_logprobs: [...pos].sort((a, b) => a.rank - b.rank).slice(0, topK).map(entry),
    })),
  };
}
