// `--help` text of a command, from its option table: usage, summary, flags by group (each with
// its value, meaning, range and default), then the command's notes. Printed on stdout.
import { defaultShown, rangeShown, valueShown, type CommandSpec, type OptionSpec } from './spec.js';

/** `--max-tokens N`, `--enable-prefix-caching, --no-enable-prefix-caching`, `-n, --iterations N`. */
export function flagShown(key: string, o: OptionSpec): string {
  const names = [key, ...(o.aliases ?? [])].map((n) => `--${n}`);
  if (o.kind === 'boolean' && o.negatable) names.push(`--no-${key}`);
  if (o.short !== undefined) names.unshift(`-${o.short}`);
  const value = valueShown(o);
  return `${names.join(', ')}${value === '' ? '' : ` ${value}`}${o.kind === 'string' && o.multiple ? ' (repeatable)' : ''}`;
}

/** The meaning with its range and default appended: `sampling temperature; >= 0 (default 1)`. */
export function meaningShown(o: OptionSpec): string {
  const range = rangeShown(o);
  const def = defaultShown(o);
  return `${o.help}${range === '' ? '' : `; ${range}`}${def === '' ? '' : ` (default ${def})`}`;
}

export function usageLine(spec: CommandSpec): string {
  return `usage: tramontane ${spec.command}${spec.positionals ? ` ${spec.positionals.usage}` : ''} [options]`;
}

export function renderHelp(spec: CommandSpec): string {
  const groups = new Map<string, [string, OptionSpec][]>();
  for (const [key, o] of Object.entries(spec.options)) {
    const g = o.group ?? 'options';
    groups.set(g, [...(groups.get(g) ?? []), [key, o]]);
  }
  groups.set('options', [...(groups.get('options') ?? []), ['help', { kind: 'boolean', short: 'h', help: 'print this help and exit' }]]);
  const lines = [usageLine(spec), '', spec.summary];
  const width = Math.min(32, Math.max(...[...groups.values()].flat().map(([k, o]) => flagShown(k, o).length)));
  for (const [group, entries] of groups) {
    lines.push('', `${group}:`);
    for (const [key, o] of entries) {
      const flag = flagShown(key, o);
      lines.push(flag.length > width ? `  ${flag}\n  ${' '.repeat(width)}  ${meaningShown(o)}` : `  ${flag.padEnd(width)}  ${meaningShown(o)}`);
    }
  }
  if (spec.notes && spec.notes.length > 0) lines.push('', ...spec.notes);
  return lines.join('\n');
}
