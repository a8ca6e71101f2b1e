// Every command and bench target answers --help on stdout with exit 0 (the real CLI, a child
// process); top-level help too; unknown flags and targets get a suggestion, not parseArgs' hint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { COMMAND_SPECS } from '../../src/cli/specs/index.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('every command and bench target: --help and -h on stdout, exit 0, nothing on stderr', () => {
  const commands = COMMAND_SPECS.map((s) => s.command);
  assert.deepEqual(commands, ['generate', 'serve', 'chat', 'tokenize', 'detokenize', 'bench latency', 'bench serve', 'bench tokenizer', 'bench image', 'bench load']);
  for (const command of commands) {
    for (const flag of ['--help', '-h']) {
      const r = cli(...command.split(' '), flag);
      assert.equal(r.code, 0, `${command} ${flag}: ${r.stderr}`);
      assert.equal(r.stderr, '', `${command} ${flag}`);
      assert.ok(r.stdout.startsWith(`usage: tramontane ${command}`), `${command} ${flag}: ${r.stdout.slice(0, 80)}`);
    }
  }
  // Help wins over the other flags, even bad ones.
  assert.equal(cli('generate', '--temperature', '-5', '--help').code, 0);
});

test('tramontane --help / help / bench --help list on stdout, exit 0; help <command> is <command> --help', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = cli(...args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /^usage: tramontane <command>/);
    for (const c of ['generate', 'serve', 'chat', 'bench', 'tokenize', 'detokenize']) assert.match(r.stdout, new RegExp(`\\n  ${c} `));
  }
  const bench = cli('bench', '--help');
  assert.equal(bench.code, 0);
  for (const t of ['latency', 'serve', 'tokenizer', 'image', 'load']) assert.match(bench.stdout, new RegExp(`\\n  ${t} `));
  const about = cli('help', 'serve');
  assert.equal(about.code, 0);
  assert.match(about.stdout, /^usage: tramontane serve \[model\] \[options\]/);
  const none = cli();
  assert.equal(none.code, 1, 'no command: usage on stderr, exit 1');
  assert.match(none.stderr, /^usage: tramontane/);
});

test('unknown flags, commands and targets: a suggestion, no parseArgs hint', () => {
  const r = cli('tokenize', '--txt', 'hi');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /tokenize: unknown option '--txt' \(did you mean --text\?\)/);
  assert.doesNotMatch(r.stderr, /'--'/);
  assert.match(cli('bench', 'latncy').stderr, /unknown target 'latncy' \(did you mean latency\?\)/);
  assert.match(cli('genrate').stderr, /unknown command 'genrate' \(did you mean generate\?\)/);
  assert.match(cli('bench', 'serve', '--num-prompt', '3').stderr, /did you mean --num-prompts\?/);
});
