// The README's flag tables, rendered from the option tables: one Markdown table per command,
// between `<!-- flags:<command> -->` and `<!-- /flags:<command> -->`. scripts/readme-flags.mjs
// writes them; test/cli/readmeFlags.test.ts fails when the README and the tables differ.
import { flagShown } from './help.js';
import { defaultShown, rangeShown, type CommandSpec } from './spec.js';

const cell = (s: string) => s.replaceAll('|', '\\|');

export function markdownTable(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([key, o]) => {
    const range = rangeShown(o);
    return `| \`${cell(flagShown(key, o))}\` | ${cell(o.help)}${range === '' ? '' : ` (${cell(range)})`} | ${cell(defaultShown(o))} |`;
  });
  return ['| flag | meaning | default |', '| --- | --- | --- |', ...rows].join('\n');
}

export const beginMarker = (command: string) => `<!-- flags:${command} -->`;
export const endMarker = (command: string) => `<!-- /flags:${command} -->`;

/** The README with each command's table between its markers replaced; commands whose markers
 *  are missing are listed in `missing`. */
export function renderReadmeTables(readme: string, specs: readonly CommandSpec[]): { text: string; missing: string[] } {
  let text = readme;
  const missing: string[] = [];
  for (const spec of specs) {
    const begin = beginMarker(spec.command);
    const end = endMarker(spec.command);
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a < 0 || b < a) {
      missing.push(spec.command);
      continue;
    }
    text = `${text.slice(0, a + begin.length)}\n${markdownTable(spec)}\n${text.slice(b)}`;
  }
  return { text, missing };
}
