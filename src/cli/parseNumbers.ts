// Flag values -> numbers, with errors that name the flag.
import { CliError } from './errors.js';

export interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** min itself is not allowed. */
  readonly minExclusive?: boolean;
}

export function parseNumberFlag(flag: string, value: string | undefined, rule: NumberRule = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new CliError(`--${flag} must be a number (got '${value}')`);
  if (rule.integer && !Number.isInteger(n)) throw new CliError(`--${flag} must be an integer (got ${value})`);
  if (rule.min !== undefined && (rule.minExclusive ? n <= rule.min : n < rule.min)) {
    throw new CliError(`--${flag} must be ${rule.minExclusive ? 'greater than' : 'at least'} ${rule.min} (got ${value})`);
  }
  if (rule.max !== undefined && n > rule.max) throw new CliError(`--${flag} must be at most ${rule.max} (got ${value})`);
  return n;
}

export function parseIdList(flag: string, value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^\d+$/.test(p))) {
    throw new CliError(`--${flag} must be comma-separated non-negative integers (got '${value}')`);
  }
  return parts.map(Number);
}
