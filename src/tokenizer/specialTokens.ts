// Tekken special tokens: ids 0..numSpecialTokens-1, ahead of the BPE vocabulary.

/** A special token: its rank (id), text and whether it is a control token. */
export interface SpecialTokenInfo {
  readonly rank: number;
  readonly tokenStr: string;
  readonly isControl: boolean;
}

/** The 20 named control tokens of a v7 tokenizer, in id order (mistral_common's defaults). */
export const V7_NAMED_SPECIAL_TOKENS: readonly string[] = [
  '<unk>',
  '<s>',
  '</s>',
  '[INST]',
  '[/INST]',
  '[AVAILABLE_TOOLS]',
  '[/AVAILABLE_TOOLS]',
  '[TOOL_RESULTS]',
  '[/TOOL_RESULTS]',
  '[TOOL_CALLS]',
  '[IMG]',
  '<pad>',
  '[IMG_BREAK]',
  '[IMG_END]',
  '[PREFIX]',
  '[MIDDLE]',
  '[SUFFIX]',
  '[SYSTEM_PROMPT]',
  '[/SYSTEM_PROMPT]',
  '[TOOL_CONTENT]',
];

/** The filler name mistral_common gives special id i when the file defines fewer than numSpecialTokens. */
export function fillerSpecialToken(id: number): string {
  return `<SPECIAL_${id}>`;
}

export function defaultSpecialTokens(): SpecialTokenInfo[] {
  return V7_NAMED_SPECIAL_TOKENS.map((tokenStr, rank) => ({ rank, tokenStr, isControl: true }));
}

/** Pads `defined` (ranks 0..k-1) with `<SPECIAL_k>` ... up to `count` tokens. */
export function completeSpecialTokens(defined: readonly SpecialTokenInfo[], count: number): SpecialTokenInfo[] {
  const all = defined.slice();
  for (let id = defined.length; id < count; id++) all.push({ rank: id, tokenStr: fillerSpecialToken(id), isControl: true });
  return all;
}
