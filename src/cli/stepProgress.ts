// Progress of a counted phase (benchmark iterations, requests, encoder rounds) on stderr, never
// stdout, so results and --json output stay clean: on a TTY one line redrawn in place
// (`bench latency: measuring [#####>....] 12/30 4.1s ETA 6.2s`), otherwise a plain line every
// few seconds and one at the end. Model loading has its own (progress.ts).
import { bar, formatSeconds, type ProgressOptions } from './progress.js';

export interface StepProgress {
  /** `n` more steps done (default 1); `detail` shown after the counts. */
  tick(n?: number, detail?: string): void;
  /** Ends the phase: clears the bar on a TTY; a closing line otherwise. */
  done(): void;
}

/** The counts, elapsed time and ETA: `12/30 4.1s ETA 6.2s`. */
export function stepFields(done: number, total: number, elapsedSeconds: number): string {
  const eta = done > 0 ? ((total - done) * elapsedSeconds) / done : Infinity;
  return `${done}/${total} ${formatSeconds(elapsedSeconds)}${done < total ? ` ETA ${formatSeconds(eta)}` : ''}`;
}

export function stepProgress(label: string, total: number, o: ProgressOptions = {}): StepProgress {
  const out = o.out ?? process.stderr;
  const tty = o.tty ?? out.isTTY === true;
  const logEvery = o.logEverySeconds ?? 2;
  const redrawEvery = 1 / (o.redrawPerSecond ?? 10);
  const start = performance.now();
  let count = 0;
  let last = -Infinity;
  let drawn = false;
  let finished = false;
  const elapsed = () => (performance.now() - start) / 1000;
  return {
    tick(n = 1, detail = '') {
      if (finished) return;
      count = Math.min(total, count + n);
      const t = elapsed();
      if (t - last < (tty ? redrawEvery : logEvery) && count < total) return;
      last = t;
      const fields = `${stepFields(count, total, t)}${detail === '' ? '' : `  ${detail}`}`;
      if (tty) {
        const width = Math.max(10, Math.min(40, (out.columns ?? 100) - label.length - fields.length - 6));
        out.write(`\r\x1b[2K${label} ${bar(total > 0 ? count / total : 1, width)} ${fields}`);
        drawn = true;
      } else {
        out.write(`tramontane: ${label}: ${fields}\n`);
      }
    },
    done() {
      if (finished) return;
      finished = true;
      if (tty) {
        if (drawn) out.write('\r\x1b[2K');
      } else if (last < 0 || count < total) {
        out.write(`tramontane: ${label}: ${count}/${total} in ${formatSeconds(elapsed())}\n`);
      }
    },
  };
}
