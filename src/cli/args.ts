// Flag parsing shared by every command: strict node:util parseArgs, and a parse error (unknown
// flag, missing value...) turned into a one-line CliError that names the command.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './errors.js';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

type Parsed<O extends FlagOptions, P extends boolean> = ReturnType<typeof parseArgs<{ args: string[]; strict: true; allowPositionals: P; options: O }>>;

const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

/** Parses `args` against `options` (strict); a parse error throws CliError `<command>: <message>`,
 *  followed by `usageOnError` on the next line when given. Positionals are refused unless allowed. */
export function parseFlags<const O extends FlagOptions, P extends boolean = false>(
  command: string,
  args: string[],
  options: O,
  allowPositionals?: P,
  usageOnError?: string,
): Parsed<O, P> {
  try {
    return parseArgs({ args, strict: true, allowPositionals: allowPositionals ?? false, options }) as Parsed<O, P>;
  } catch (e) {
    throw new CliError(`${command}: ${(e as Error).message}${usageOnError === undefined ? '' : `\n${usageOnError}`}`);
  }
}

/** parseFlags for a command with a usage text: adds --help / -h, which prints the usage to stdout
 *  and gives null (the command then exits 0); a parse error's message ends with the usage. */
export function parseFlagsWithHelp<const O extends FlagOptions, P extends boolean = false>(
  command: string,
  usage: string,
  args: string[],
  options: O,
  allowPositionals?: P,
): Parsed<O & typeof HELP_FLAG, P> | null {
  const parsed = parseFlags(command, args, { ...options, ...HELP_FLAG }, allowPositionals, usage);
  if ((parsed.values as { help?: boolean }).help) {
    console.log(usage);
    return null;
  }
  return parsed;
}
