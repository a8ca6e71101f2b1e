// Per sequence: incremental detokenisation and stop strings. Stop strings are matched on the
// decoded text, so one split across tokens is still found; the text up to (or through, with
// includeStopStrInOutput) the match is kept. While a sequence runs, the last
// (longest stop string - 1) characters are held back from streaming so a stop string is never
// half-streamed.
import type { SamplingParams } from './samplingParams.js';
import type { StreamingDetokenizer } from './tokenizerPort.js';

export interface StopMatch {
  readonly stop: string;
}

export class OutputText {
  private text = '';
  private readonly holdBack: number;
  private stopped = false;

  constructor(
    private readonly detokenizer: StreamingDetokenizer,
    private readonly params: SamplingParams,
  ) {
    const longest = params.stop.reduce((m, s) => Math.max(m, s.length), 0);
    this.holdBack = params.includeStopStrInOutput || longest === 0 ? 0 : longest - 1;
  }

  /** Adds a token; returns the stop string it completed, if any. */
  push(tokenId: number): StopMatch | null {
    if (this.stopped) return null;
    const before = this.text.length;
    this.text += this.detokenizer.push(tokenId);
    return this.checkStop(before);
  }

  /** At the end of the sequence: takes in any held-back bytes. */
  finish(): StopMatch | null {
    if (this.stopped) return null;
    const before = this.text.length;
    this.text += this.detokenizer.flush();
    return this.checkStop(before);
  }

  /** The whole text; with `streaming`, minus the held-back tail. */
  value(streaming: boolean): string {
    if (!streaming || this.stopped || this.holdBack === 0) return this.text;
    return this.text.slice(0, Math.max(0, this.text.length - this.holdBack));
  }

  private checkStop(before: number): StopMatch | null {
    const stops = this.params.stop;
    if (stops.length === 0 || this.text.length === before) return null;
    let best: { at: number; stop: string } | null = null;
    for (const stop of stops) {
      const from = Math.max(0, before - stop.length + 1);
      const at = this.text.indexOf(stop, from);
      if (at >= 0 && (best === null || at < best.at)) best = { at, stop };
    }
    if (!best) return null;
    this.text = this.text.slice(0, this.params.includeStopStrInOutput ? best.at + best.stop.length : best.at);
    this.stopped = true;
    return { stop: best.stop };
  }
}
