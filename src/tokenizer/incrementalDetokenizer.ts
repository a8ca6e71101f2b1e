// Streaming detokenisation: fed one id at a time, emits text only for complete UTF-8 characters.
// The concatenation of everything emitted (push results, then flush) equals
// tokenizer.decode(allIds, { specialTokenPolicy }).
import type { SpecialTokenPolicy, Tekkenizer } from './tekkenizer.js';

/** Turns a growing list of ids into text in whole characters, as tokens arrive. */
export class IncrementalDetokenizer {
  private readonly tokenizer: Tekkenizer;
  private readonly policy: SpecialTokenPolicy;
  // A streaming decoder holds back the bytes of an unfinished character between calls.
  private decoder = new TextDecoder('utf-8');
  private pending = false;
  private count = 0;

  /** `specialTokenPolicy` defaults to 'ignore': special ids add no text (vLLM's skip_special_tokens). */
  constructor(tokenizer: Tekkenizer, options: { specialTokenPolicy?: SpecialTokenPolicy } = {}) {
    this.tokenizer = tokenizer;
    this.policy = options.specialTokenPolicy ?? 'ignore';
  }

  /** Adds one id; returns the text it completes (often '', e.g. mid-character). */
  push(id: number): string {
    this.tokenizer.checkId(id, this.count);
    this.count++;
    if (this.tokenizer.isSpecial(id)) {
      // decode() decodes each run of BPE ids on its own, so a special id ends the run: an
      // unfinished character before it becomes U+FFFD there too.
      return this.endRun() + this.tokenizer.specialText(id, this.policy);
    }
    this.pending = true;
    return this.decoder.decode(this.tokenizer.idToBytes(id), { stream: true });
  }

  /** Adds several ids; returns the text they complete. */
  pushAll(ids: Iterable<number>): string {
    let text = '';
    for (const id of ids) text += this.push(id);
    return text;
  }

  /** Ends the stream: returns what is held back (U+FFFD for an unfinished character), then resets. */
  flush(): string {
    const text = this.endRun();
    this.count = 0;
    return text;
  }

  private endRun(): string {
    if (!this.pending) return '';
    this.pending = false;
    const text = this.decoder.decode();
    this.decoder = new TextDecoder('utf-8');
    return text;
  }
}
