// Parses a command's arguments against its option table (spec.ts): `--flag value`,
// `--flag=value`, `-s value`, booleans (`--no-<flag>` where negatable), repeatable flags,
// positionals, `--` ending the flags. A value may start with '-' (`--temperature -1`). Every
// value is converted and checked here: numbers against their range, choices against the list.
import { CliError } from '../errors.js';
import { parseNumberFlag } from '../parseNumbers.js';
import type { CommandSpec, OptionSpec, OptionTable, OptionValues } from './spec.js';
import { nearest } from './suggest.js';

export interface ParsedCommandLine<T extends OptionTable> {
  readonly values: OptionValues<T>;
  readonly positionals: string[];
}

/** What a spelling on the command line means: the option's key, and for a boolean its value. */
interface Spelling {
  readonly key: string;
  readonly option: OptionSpec;
  readonly booleanValue?: boolean;
}

function spellings(options: OptionTable): Map<string, Spelling> {
  const map = new Map<string, Spelling>();
  for (const [key, option] of Object.entries(options)) {
    for (const name of [key, ...(option.aliases ?? [])]) {
      map.set(`--${name}`, { key, option, booleanValue: true });
      if (option.kind === 'boolean' && option.negatable) map.set(`--no-${name}`, { key, option, booleanValue: false });
    }
    if (option.short !== undefined) map.set(`-${option.short}`, { key, option, booleanValue: true });
  }
  return map;
}

const looksLikeNumber = (s: string) => /^-\.?\d/.test(s);

/** `<command>: unknown option '--x' (did you mean --y?)`. */
function unknownOption(spec: CommandSpec, given: string, known: Map<string, Spelling>): CliError {
  const guess = nearest(given, [...known.keys(), '--help'].filter((k) => k.startsWith('--')));
  const hint = guess === null ? '' : ` (did you mean ${guess}?)`;
  return new CliError(`${spec.command}: unknown option '${given}'${hint}; see 'tramontane ${spec.command} --help'`);
}

/** Converts one raw value by the option's kind; errors name the flag. */
export function convertValue(key: string, o: OptionSpec, raw: string): string | number {
  switch (o.kind) {
    case 'integer':
    case 'number':
      return parseNumberFlag(key, raw, { integer: o.kind === 'integer', min: o.min, max: o.max, minExclusive: o.minExclusive, humanReadable: o.humanReadable, allowInfinity: o.allowInfinity })!;
    case 'choice':
      if (!o.choices.includes(raw)) throw new CliError(`--${key} must be one of ${o.choices.join(', ')} (got '${raw}')`);
      return raw;
    default:
      return raw;
  }
}

/**
 * Parses `args` for `spec`; null when --help / -h was given (the caller prints help and exits 0).
 * Absent flags take their defaults; booleans without one are false.
 */
export function parseCommandLine<T extends OptionTable>(spec: CommandSpec<T>, args: readonly string[]): ParsedCommandLine<T> | null {
  if (args.includes('--help') || args.includes('-h')) {
    const end = args.indexOf('--');
    if (end < 0 || args.slice(0, end).some((a) => a === '--help' || a === '-h')) return null;
  }
  const known = spellings(spec.options);
  const raw = new Map<string, string[] | boolean>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-' || looksLikeNumber(arg)) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const s = known.get(name);
    if (!s) throw unknownOption(spec, name, known);
    if (s.option.kind === 'boolean') {
      if (eq >= 0) throw new CliError(`${spec.command}: ${name} takes no value (got '${arg.slice(eq + 1)}')`);
      raw.set(s.key, s.booleanValue !== false);
      continue;
    }
    let value: string;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      // A following flag is not a value (a forgotten value), but a negative number is.
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new CliError(`${spec.command}: ${name} needs a value (${s.option.value ?? 'a value'})`);
      value = next;
      i++;
    }
    const previous = raw.get(s.key);
    raw.set(s.key, s.option.kind === 'string' && s.option.multiple && Array.isArray(previous) ? [...previous, value] : [value]);
  }
  const max = spec.positionals?.max ?? 0;
  if (positionals.length > max) {
    const what = max === 0 ? `takes no arguments (got '${positionals[0]}')` : `takes at most ${max} argument(s): ${spec.positionals!.usage} (got ${positionals.join(' ')})`;
    throw new CliError(`${spec.command}: ${what}; see 'tramontane ${spec.command} --help'`);
  }
  const values: Record<string, unknown> = {};
  for (const [key, o] of Object.entries(spec.options)) {
    const given = raw.get(key);
    if (o.kind === 'boolean') values[key] = typeof given === 'boolean' ? given : (o.default ?? false);
    else if (given === undefined || typeof given === 'boolean') values[key] = o.default;
    else if (o.kind === 'string' && o.multiple) values[key] = given;
    else values[key] = convertValue(key, o, given[given.length - 1]);
  }
  return { values: values as OptionValues<T>, positionals };
}
