// What the engine needs from a tokenizer. The Tekken tokenizer (src/tokenizer/) is adapted to
// this in tekkenPort.ts; tests may use any implementation.

/** Fed one id at a time; returns only text made of complete characters. */
export interface StreamingDetokenizer {
  push(tokenId: number): string;
  /** Whatever is still held back (an incomplete character at the end). */
  flush(): string;
}

export interface EngineTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly vocabSize: number;
  /** Text to ids, with or without BOS and EOS. */
  encode(text: string, options: { readonly bos: boolean; readonly eos: boolean }): number[];
  /** Ids to text, special tokens skipped or written. */
  decode(ids: readonly number[], options: { readonly skipSpecialTokens: boolean }): string;
  /** The text of one token for logprob listings (special tokens by name). */
  tokenText(id: number): string;
  /** A detokenizer that turns ids into text as they arrive, in whole characters. */
  newDetokenizer(options: { readonly skipSpecialTokens: boolean }): StreamingDetokenizer;
  /** A token's raw bytes (empty for special tokens), for constrained decoding's grammar engine;
   *  absent: structured outputs are refused. */
  tokenBytes?(id: number): Uint8Array;
}
