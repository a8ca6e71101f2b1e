// The tokenize and detokenize commands, run as the real CLI in a child process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import { devTekkenPath, realTekkenizer } from '../helpers/tekkenFixture.js';

const main = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
function cli(args: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [main, ...args], { input, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('tokenize prints ids (plain or --json) from --text or stdin; --bos prepends <s>', () => {
  const path = devTekkenPath();
  const ids = realTekkenizer().encode('Bonjour [INST] 👋');
  const plain = cli(['tokenize', '--tokenizer', path, '--text', 'Bonjour [INST] 👋']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, `${ids.join(' ')}\n`);
  const json = cli(['tokenize', '--tokenizer', path, '--bos', '--json'], 'Bonjour [INST] 👋');
  assert.deepEqual(JSON.parse(json.stdout), { ids: [1, ...ids] });
});

test('detokenize prints the text of --ids or stdin; --keep-special writes special tokens', () => {
  const path = devTekkenPath();
  const ids = [1, ...realTekkenizer().encode('héllo wörld')];
  assert.equal(cli(['detokenize', '--tokenizer', path, '--ids', ids.join(',')]).stdout, 'héllo wörld');
  assert.equal(cli(['detokenize', '--tokenizer', path, '--keep-special'], JSON.stringify({ ids })).stdout, '<s>héllo wörld');
});

test('bad input: one clear line and a non-zero exit', () => {
  const path = devTekkenPath();
  const outOfRange = cli(['detokenize', '--tokenizer', path, '--ids', '5,131072']);
  assert.notEqual(outOfRange.code, 0);
  assert.match(outOfRange.stderr, /token id 131072 at position 1 is out of range/);
  const notInt = cli(['detokenize', '--tokenizer', path, '--ids', '5,x']);
  assert.match(notInt.stderr, /id 1 \("x"\) is not an integer/);
  const missing = cli(['tokenize', '--text', 'hi']);
  assert.match(missing.stderr, /--tokenizer <tekken.json> is required/);
  const noFile = cli(['tokenize', '--tokenizer', '/nonexistent/tekken.json', '--text', 'hi']);
  assert.match(noFile.stderr, /\/nonexistent\/tekken.json: cannot read file \(ENOENT\)/);
  const unknownFlag = cli(['tokenize', '--tokenizer', path, '--nope']);
  assert.match(unknownFlag.stderr, /tokenize: unknown option '--nope'/);
  assert.doesNotMatch(unknownFlag.stderr, /after '--'/, "no parseArgs hint");
});
