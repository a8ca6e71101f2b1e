#!/usr/bin/env node
// The `tramontane` command: picks a subcommand and hands it the remaining arguments.
// `tramontane --help` / `help` list the commands on stdout; `help <command>` is `<command> --help`.
import { commands } from './commands/index.js';
import { CliError } from './errors.js';
import { nearest } from './options/suggest.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`${usage()}\n`);
    return 1;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const about = rest[0] === undefined ? undefined : commands.find((c) => c.name === rest[0]);
    if (about) return about.run([...rest.slice(1), '--help']);
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    const { VERSION } = await import('../index.js');
    console.log(VERSION);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const guess = nearest(name, commands.map((c) => c.name));
    process.stderr.write(`tramontane: unknown command '${name}'${guess ? ` (did you mean ${guess}?)` : ''}\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['usage: tramontane <command> [options]', '', 'commands:', ...lines, '', "'tramontane <command> --help' lists a command's options; --version prints the version."].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      console.error(`tramontane: ${err.message}`);
      process.exitCode = err.exitCode;
    } else {
      console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
      process.exitCode = 1;
    }
  },
);
