// Logprobs in the two OpenAI shapes: completions' parallel lists and chat's per-token objects.
// Tokens are named by their text, or as `token_id:N` with --return-tokens-as-token-ids (vLLM's
// flag: the text of a token that is part of a multi-byte character is not decodable alone).
import type { PositionLogprobs, TokenLogprob } from '../engine/outputs.js';

/** How logprob entries name their token. */
export interface TokenNames {
  /** The entry's token as the client sees it. */
  name(entry: Pick<TokenLogprob, 'tokenId' | 'decodedToken'>): string;
  /** A prompt token without logprobs (the first position), by id. */
  fallback(tokenId: number): string;
}

export function tokenNames(asTokenIds: boolean, tokenText: (tokenId: number) => string): TokenNames {
  return asTokenIds
    ? { name: (e) => `token_id:${e.tokenId}`, fallback: (id) => `token_id:${id}` }
    : { name: (e) => e.decodedToken, fallback: tokenText };
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

/** `text_offset` counts the tokens' text (UTF-16 units) from `startOffset`, whatever their names. */
export function completionLogprobs(
  positions: readonly (PositionLogprobs | null)[],
  startOffset: number,
  names: TokenNames,
  fallbackTokens?: readonly string[],
): CompletionLogprobs {
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  let offset = startOffset;
  positions.forEach((pos, i) => {
    out.tokens.push(pos ? names.name(pos[0]) : (fallbackTokens?.[i] ?? ''));
    out.token_logprobs.push(pos ? pos[0].logprob : null);
    out.top_logprobs.push(pos ? Object.fromEntries(pos.map((e) => [names.name(e), e.logprob])) : null);
    out.text_offset.push(offset);
    offset += pos ? pos[0].decodedToken.length : (fallbackTokens?.[i] ?? '').length;
  });
  return out;
}

/** The prompt's entries then the completion's (echo with logprobs). */
export function concatLogprobs(a: CompletionLogprobs, b: CompletionLogprobs): CompletionLogprobs {
  return {
    tokens: [...a.tokens, ...b.tokens],
    token_logprobs: [...a.token_logprobs, ...b.token_logprobs],
    top_logprobs: [...a.top_logprobs, ...b.top_logprobs],
    text_offset: [...a.text_offset, ...b.text_offset],
  };
}

interface ChatTokenLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export function chatLogprobs(positions: readonly PositionLogprobs[], topK: number, names: TokenNames): { content: (ChatTokenLogprob & { top_logprobs: ChatTokenLogprob[] })[] } {
  const entry = (t: TokenLogprob): ChatTokenLogprob => {
    const token = names.name(t);
    return { token, logprob: Math.max(t.logprob, -9999), bytes: [...Buffer.from(token, 'utf8')] };
  };
  return {
    content: positions.map((pos) => ({
      ...entry(pos[0]),
      top_logprobs: [...pos].sort((a, b) => a.rank - b.rank).slice(0, topK).map(entry),
    })),
  };
}
