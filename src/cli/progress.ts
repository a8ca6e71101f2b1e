// Progress of a long-running phase on stderr, for people and for logs: on a TTY one line
// redrawn in place (a bar, bytes, GB/s, ETA, tensors); otherwise a plain line every few
// seconds. Weight loading ends with vLLM's line `Loading weights took X s (Y GB, Z GB/s)`.
import type { LoadProgress } from '../model/loadProgress.js';

export interface ProgressSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** Default process.stderr. */
  readonly out?: ProgressSink;
  /** Default: out.isTTY. */
  readonly tty?: boolean;
  /** Seconds between plain log lines (default 2). */
  readonly logEverySeconds?: number;
  /** Redraws per second on a TTY at most (default 10). */
  readonly redrawPerSecond?: number;
}

const GB = 1e9;
const fmtGb = (b: number) => (b / GB).toFixed(b >= 10 * GB ? 1 : b >= 0.1 * GB ? 2 : 4);

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

/** One progress line without the bar: `12.3/48.0 GB  11.2 GB/s  ETA 3.1s  120/600 tensors`. */
export function progressFields(p: LoadProgress): string {
  const rate = p.elapsedSeconds > 0 ? p.bytesDone / p.elapsedSeconds : 0;
  const eta = rate > 0 ? (p.bytesTotal - p.bytesDone) / rate : Infinity;
  return `${fmtGb(p.bytesDone)}/${fmtGb(p.bytesTotal)} GB  ${(rate / GB).toFixed(2)} GB/s  ETA ${formatSeconds(eta)}  ${p.tensorsDone}/${p.tensorsTotal} tensors`;
}

export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.floor(f * width);
  return `[${'#'.repeat(full)}${full < width ? '>' : ''}${'.'.repeat(Math.max(0, width - full - 1))}]`;
}

/** vLLM's closing line. */
export function loadedLine(p: LoadProgress): string {
  const rate = p.elapsedSeconds > 0 ? p.bytesDone / p.elapsedSeconds : 0;
  return `Loading weights took ${p.elapsedSeconds.toFixed(2)} s (${fmtGb(p.bytesDone)} GB, ${(rate / GB).toFixed(2)} GB/s)`;
}

/** A LoadProgress listener that draws weight loading on `out`. */
export function weightLoadProgress(o: ProgressOptions = {}): (p: LoadProgress) => void {
  const out = o.out ?? process.stderr;
  const tty = o.tty ?? out.isTTY === true;
  const logEvery = o.logEverySeconds ?? 2;
  const redrawEvery = 1 / (o.redrawPerSecond ?? 10);
  let last = -Infinity;
  let drawn = false;
  return (p) => {
    if (p.phase === 'done') {
      if (drawn && tty) out.write('\r\x1b[2K');
      out.write(`tramontane: ${loadedLine(p)}\n`);
      return;
    }
    if (p.phase === 'start') {
      last = p.elapsedSeconds;
      if (!tty) out.write(`tramontane: loading weights: ${fmtGb(p.bytesTotal)} GB in ${p.tensorsTotal} tensors\n`);
      return;
    }
    if (p.elapsedSeconds - last < (tty ? redrawEvery : logEvery)) return;
    last = p.elapsedSeconds;
    if (tty) {
      const fields = progressFields(p);
      const width = Math.max(10, Math.min(40, (out.columns ?? 100) - fields.length - 20));
      out.write(`\r\x1b[2KLoading weights ${bar(p.bytesTotal > 0 ? p.bytesDone / p.bytesTotal : 1, width)} ${fields}`);
      drawn = true;
    } else {
      const pct = p.bytesTotal > 0 ? Math.floor((100 * p.bytesDone) / p.bytesTotal) : 100;
      out.write(`tramontane: loading weights ${pct}%: ${progressFields(p)}\n`);
    }
  };
}

/** `KV cache: 183,456 tokens (28.0 GiB)` */
export function kvCacheLine(tokens: number, bytes: number): string {
  return `KV cache: ${tokens.toLocaleString('en-US')} tokens (${(bytes / 2 ** 30).toFixed(2)} GiB)`;
}
