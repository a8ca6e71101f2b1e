// What every command does first: parse its arguments against its option table
// (src/cli/specs/), or print its --help on stdout.
import { renderHelp } from './options/help.js';
import { parseCommandLine, type ParsedCommandLine } from './options/parse.js';
import type { CommandSpec, OptionTable } from './options/spec.js';

/** The parsed arguments, or null after printing the help (the command then exits 0). */
export function parseOrHelp<T extends OptionTable>(spec: CommandSpec<T>, args: readonly string[]): ParsedCommandLine<T> | null {
  const parsed = parseCommandLine(spec, args);
  if (parsed === null) {
    process.stdout.write(`${renderHelp(spec)}\n`);
    return null;
  }
  return parsed;
}
