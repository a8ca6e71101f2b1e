// The option table of a command: one entry per flag, from which its parsing (parse.ts), its
// `--help` (help.ts) and the README's flag tables (markdown.ts, scripts/readme-flags.mjs) come.
//
// Why a table and a small parser of our own rather than node:util parseArgs or commander/citty:
// parseArgs refuses negative numbers as values ("argument is ambiguous"), has no "did you mean",
// and its errors advise "place it after '--'"; commander and citty would parse, but their help
// layout and value checks are their own, so the README tables and the range errors (worded the
// same for every flag of every command) would still need this table beside them. The table is
// the one source; the parser over it is ~150 lines with no dependency.

interface OptionBase {
  /** One line for --help and the README. */
  readonly help: string;
  /** The value's placeholder in help (`N`, `TEXT`, `DIR`); none for booleans. */
  readonly value?: string;
  /** The default as shown in help, where it is not a plain `default` (e.g. "the model's"). */
  readonly defaultText?: string;
  /** Other spellings accepted with the same meaning (without the leading --). */
  readonly aliases?: readonly string[];
  /** A one-letter spelling (`-n`). */
  readonly short?: string;
  /** A heading grouping flags in help (e.g. "model", "sampling", "logging"). */
  readonly group?: string;
}

export interface StringOption extends OptionBase {
  readonly kind: 'string';
  readonly default?: string;
  /** Repeatable: every occurrence is kept, in order. */
  readonly multiple?: boolean;
}

export interface BooleanOption extends OptionBase {
  readonly kind: 'boolean';
  /** Absent: false. */
  readonly default?: boolean;
  /** `--no-<name>` turns it off (vLLM's BooleanOptionalAction). */
  readonly negatable?: boolean;
}

export interface NumberOption extends OptionBase {
  readonly kind: 'integer' | 'number';
  readonly default?: number;
  readonly min?: number;
  readonly max?: number;
  /** min itself is not allowed. */
  readonly minExclusive?: boolean;
  /** vLLM's human-readable integers: 8k = 8000, 8K = 8192 (k/m/g decimal, K/M/G binary). */
  readonly humanReadable?: boolean;
  /** `inf` is a value (Infinity). */
  readonly allowInfinity?: boolean;
}

export interface ChoiceOption extends OptionBase {
  readonly kind: 'choice';
  readonly choices: readonly string[];
  readonly default?: string;
}

export type OptionSpec = StringOption | BooleanOption | NumberOption | ChoiceOption;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<T extends OptionTable = OptionTable> {
  /** As typed after `tramontane`: 'generate', 'bench latency'. */
  readonly command: string;
  readonly summary: string;
  /** What follows the command in the usage line besides [options], e.g. '[model]'. */
  readonly positionals?: { readonly usage: string; readonly max: number };
  readonly options: T;
  /** Lines printed after the flags in --help (not in the README's tables). */
  readonly notes?: readonly string[];
}

type ValueOf<O extends OptionSpec> = O extends BooleanOption
  ? boolean
  : O extends NumberOption
    ? number
    : O extends ChoiceOption
      ? O['choices'][number]
      : O extends { multiple: true }
        ? string[]
        : string;

/** Parsed values: a flag with a default (and every boolean) is always there. */
export type OptionValues<T extends OptionTable> = {
  -readonly [K in keyof T]: T[K] extends BooleanOption ? boolean : T[K] extends { default: unknown } ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

/** Keeps the literal types of a table (choices, defaults) while checking it is one. */
export function defineCommand<const T extends OptionTable>(spec: CommandSpec<T>): CommandSpec<T> {
  return spec;
}

/** The default as help and the README show it ('' when none). */
export function defaultShown(o: OptionSpec): string {
  if (o.defaultText !== undefined) return o.defaultText;
  if (o.kind === 'boolean') return o.default === true ? 'on' : '';
  if (o.default === undefined) return '';
  return String(o.default);
}

/** The value placeholder: the spec's, else choices joined by |, else a kind's default. */
export function valueShown(o: OptionSpec): string {
  if (o.kind === 'boolean') return '';
  if (o.value !== undefined) return o.value;
  if (o.kind === 'choice') return o.choices.join('|');
  return o.kind === 'string' ? 'TEXT' : o.kind === 'integer' ? 'N' : 'X';
}

/** The allowed range in words (`>= 0`, `> 0, <= 1`), '' when unbounded. */
export function rangeShown(o: OptionSpec): string {
  if (o.kind !== 'integer' && o.kind !== 'number') return '';
  const parts: string[] = [];
  if (o.min !== undefined) parts.push(`${o.minExclusive ? '>' : '>='} ${o.min}`);
  if (o.max !== undefined) parts.push(`<= ${o.max}`);
  return parts.join(', ');
}
