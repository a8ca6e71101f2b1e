// The CLI's log: pino, levelled (--log-level), to stderr so it never mixes with results on
// stdout; as text lines by default (`INFO 12-03 06:12:01 [serve] message key=value`, vLLM's
// layout) or pino's JSON objects with --log-format json. The server and the engine stats line
// write to the same logger (createServer's `logger` option).
import { pino, type Logger } from 'pino';

export type LogFormat = 'text' | 'json';

export interface LogSink {
  write(text: string): unknown;
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARNING', 50: 'ERROR', 60: 'FATAL' };
/** pino's own fields, and the stats line's (its message says them), not repeated as key=value. */
const OWN_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component', 'v', 'stats']);

const two = (n: number) => String(n).padStart(2, '0');

function fieldText(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  if (v instanceof Object && 'message' in v && typeof (v as { message: unknown }).message === 'string') return JSON.stringify((v as { message: string }).message);
  return JSON.stringify(v);
}

/** One pino JSON line as a text line: `LEVEL MM-DD hh:mm:ss [component] msg k=v ...`. */
export function textLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const d = new Date(typeof o.time === 'number' ? o.time : Date.now());
  const when = `${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  const level = LEVEL_NAMES[o.level as number] ?? String(o.level);
  const fields = Object.entries(o)
    .filter(([k]) => !OWN_FIELDS.has(k))
    .map(([k, v]) => `${k}=${fieldText(v)}`);
  const component = typeof o.component === 'string' ? ` [${o.component}]` : '';
  return `${level} ${when}${component} ${String(o.msg ?? '')}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
}

export interface CliLogOptions {
  readonly level?: string;
  readonly format?: LogFormat;
  /** Default process.stderr. */
  readonly out?: LogSink;
}

/** The logger of one CLI run. */
export function createCliLogger(o: CliLogOptions = {}): Logger {
  const out = o.out ?? process.stderr;
  const format = o.format ?? 'text';
  const destination = { write: (line: string) => out.write(format === 'json' ? line : textLine(line)) };
  return pino({ level: o.level ?? 'info', base: null }, destination);
}

/** The notice every command gives once (stderr, warn level) when the weights it runs are
 *  random: the embedded tiny model (no --model), or --load-format dummy. */
export function randomWeightsNotice(log: Logger, model: string | undefined, loadFormat: string): void {
  if (loadFormat === 'dummy') {
    log.warn({ component: 'model' }, `--load-format dummy: random weights for ${model ?? 'the embedded tiny config'}, the output is meaningless text`);
  } else if (model === undefined) {
    log.warn({ component: 'model' }, 'no --model given: running the embedded tiny model (assets/tiny-default), random weights, the output is meaningless text; pass --model DIR for a real checkpoint');
  }
}
