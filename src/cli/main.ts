#!/usr/bin/env node
// The `tramontane` command: picks a subcommand and hands it the remaining arguments.
import { commands } from './commands/index.js';
import { CliError } from './errors.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    printUsage();
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { VERSION } = await import('../index.js');
    console.log(VERSION);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`tramontane: unknown command '${name}'`);
    printUsage();
    return 2;
  }
  return command.run(rest);
}

function printUsage(): void {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  console.error(['usage: tramontane <command> [options]', '', 'commands:', ...lines].join('\n'));
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
