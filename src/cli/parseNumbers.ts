// Flag values -> numbers, with errors that name the flag, worded the same for every flag of
// every command: `--temperature must be >= 0 (got -1)`.
import { CliError } from './errors.js';

export interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** min itself is not allowed. */
  readonly minExclusive?: boolean;
  /** vLLM's human-readable integers: 8k = 8000, 8K = 8192 (k/m/g decimal, K/M/G binary). */
  readonly humanReadable?: boolean;
  /** `inf` is a value (Infinity). */
  readonly allowInfinity?: boolean;
}

const DECIMAL: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9 };
const BINARY: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };

/** vLLM's human_readable_int: '25.6k' -> 25600, '32K' -> 32768, '131072' -> 131072; NaN if not one. */
export function humanReadableNumber(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$/.exec(value);
  if (!m) return NaN;
  const unit = m[2] === '' ? 1 : (DECIMAL[m[2]] ?? BINARY[m[2]]);
  return Math.round(Number(m[1]) * unit);
}

/** The one wording of a bound a value breaks: `--flag must be >= 0 (got -1)`. */
export function rangeError(flag: string, bound: string, got: string | number): CliError {
  return new CliError(`--${flag} must be ${bound} (got ${got})`);
}

export function parseNumberFlag(flag: string, value: string | undefined, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  if (rule.allowInfinity && value.trim() === 'inf') return Infinity;
  const n = rule.humanReadable && /[kKmMgG]\s*$/.test(value) ? humanReadableNumber(value) : value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n)) {
    const kind = rule.humanReadable ? 'a number (suffixes k, K, m, M, g, G allowed)' : rule.allowInfinity ? "a number or 'inf'" : 'a number';
    throw new CliError(`--${flag} must be ${kind} (got '${value}')`);
  }
  if (rule.integer && !Number.isInteger(n)) throw new CliError(`--${flag} must be an integer (got ${value})`);
  checkRange(flag, n, rule);
  return n;
}

/** Throws the range error when n is outside the rule's bounds. */
export function checkRange(flag: string, n: number, rule: NumberRule): void {
  if (rule.min !== undefined && (rule.minExclusive ? n <= rule.min : n < rule.min)) throw rangeError(flag, `${rule.minExclusive ? '>' : '>='} ${rule.min}`, n);
  if (rule.max !== undefined && n > rule.max) throw rangeError(flag, `<= ${rule.max}`, n);
}

export function parseIdList(flag: string, value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new CliError(`--${flag} must be comma-separated non-negative integers (got '${value}')`);
  }
  return parts.map(Number);
}
