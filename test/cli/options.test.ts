// The option tables and their parser: aliases, vLLM's spellings, values that start with '-',
// "did you mean", and one wording of a range error for every numeric flag of every command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine } from '../../src/cli/options/parse.js';
import { renderHelp } from '../../src/cli/options/help.js';
import { nearest } from '../../src/cli/options/suggest.js';
import { COMMAND_SPECS } from '../../src/cli/specs/index.js';
import { GENERATE_SPEC } from '../../src/cli/specs/generate.js';
import { SERVE_SPEC } from '../../src/cli/specs/serve.js';
import { BENCH_IMAGE_SPEC, BENCH_SERVE_SPEC } from '../../src/cli/specs/bench.js';
import { checkDtype } from '../../src/cli/dtype.js';
import { humanReadableNumber } from '../../src/cli/parseNumbers.js';

const serve = (...args: string[]) => parseCommandLine(SERVE_SPEC, args)!;

test("vLLM's spellings: --enable-prefix-caching / --no-enable-prefix-caching, --seed, --dtype, --max-model-len 8k|32K|131072", () => {
  assert.equal(serve().values['enable-prefix-caching'], true);
  assert.equal(serve('--no-enable-prefix-caching').values['enable-prefix-caching'], false);
  assert.equal(serve('--no-enable-prefix-caching', '--enable-prefix-caching').values['enable-prefix-caching'], true, 'the last one wins');
  assert.equal(serve('--seed', '7').values.seed, 7);
  assert.equal(serve().values.dtype, 'auto');
  for (const d of ['auto', 'bfloat16', 'float16', 'float32']) assert.equal(serve('--dtype', d).values.dtype, d);
  assert.throws(() => serve('--dtype', 'half'), /--dtype must be one of auto, bfloat16, float16, float32 \(got 'half'\)/);
  assert.equal(serve('--max-model-len', '8k').values['max-model-len'], 8000);
  assert.equal(serve('--max-model-len', '32K').values['max-model-len'], 32768);
  assert.equal(serve('--max-model-len', '131072').values['max-model-len'], 131072);
  assert.equal(serve('--max-model-len=25.6k').values['max-model-len'], 25600);
  assert.equal(humanReadableNumber('1M'), 2 ** 20);
  assert.equal(humanReadableNumber('1g'), 1e9);
  assert.throws(() => serve('--max-model-len', '8x'), /--max-model-len must be a number \(suffixes k, K, m, M, g, G allowed\) \(got '8x'\)/);
});

test('values: negative numbers parse, --flag=value, repeatable flags, defaults, positionals, a forgotten value', () => {
  const g = parseCommandLine(GENERATE_SPEC, ['--prompt', 'hi', '--top-k', '-1', '--temperature=0.5', '--image', 'a.png', '--image', 'b.png'])!.values;
  assert.equal(g['top-k'], -1);
  assert.equal(g.temperature, 0.5);
  assert.deepEqual(g.image, ['a.png', 'b.png']);
  assert.equal(g['max-tokens'], 16);
  assert.equal(g.json, false);
  assert.equal(g.seed, undefined);
  assert.throws(() => parseCommandLine(GENERATE_SPEC, ['--temperature', '-1']), /^CliError: --temperature must be >= 0 \(got -1\)$/);
  assert.throws(() => parseCommandLine(GENERATE_SPEC, ['--prompt', '--max-tokens', '3']), /generate: --prompt needs a value \(TEXT\)/);
  assert.throws(() => parseCommandLine(GENERATE_SPEC, ['--json=yes']), /--json takes no value/);
  assert.throws(() => parseCommandLine(GENERATE_SPEC, ['stray']), /generate: takes no arguments \(got 'stray'\)/);
  assert.deepEqual(serve('/models/x').positionals, ['/models/x']);
  assert.throws(() => serve('a', 'b'), /serve: takes at most 1 argument\(s\): \[model\]/);
  assert.equal(parseCommandLine(BENCH_IMAGE_SPEC, ['-n', '3'])!.values.iterations, 3);
  assert.equal(parseCommandLine(BENCH_SERVE_SPEC, [])!.values['request-rate'], Infinity);
  assert.equal(parseCommandLine(BENCH_SERVE_SPEC, ['--request-rate', 'inf'])!.values['request-rate'], Infinity);
  assert.equal(parseCommandLine(BENCH_SERVE_SPEC, ['--request-rate', '2.5'])!.values['request-rate'], 2.5);
  assert.equal(parseCommandLine(GENERATE_SPEC, ['--help']), null);
  assert.equal(parseCommandLine(GENERATE_SPEC, ['--prompt', 'x', '-h']), null);
  assert.deepEqual(parseCommandLine(SERVE_SPEC, ['--', '--help'])!.positionals, ['--help'], "after '--' it is an argument");
});

test('an unknown flag names the nearest known one', () => {
  assert.throws(() => parseCommandLine(GENERATE_SPEC, ['--temprature', '1']), /^CliError: generate: unknown option '--temprature' \(did you mean --temperature\?\); see 'tramontane generate --help'$/);
  assert.throws(() => serve('--enable-prefix-cache'), /did you mean --enable-prefix-caching\?/);
  assert.throws(() => serve('--max-num-seq', '4'), /did you mean --max-num-seqs\?/);
  assert.throws(() => serve('--zzzzzzzzzz'), (e: Error) => !/did you mean/.test(e.message) && /unknown option '--zzzzzzzzzz'/.test(e.message));
  assert.equal(nearest('lantency', ['latency', 'serve', 'load']), 'latency');
});

test('every numeric flag of every command: one wording for a value out of range, and for a non-number', () => {
  let checked = 0;
  for (const spec of COMMAND_SPECS) {
    for (const [key, o] of Object.entries(spec.options)) {
      if (o.kind !== 'integer' && o.kind !== 'number') continue;
      const notNumber = () => parseCommandLine(spec, [`--${key}`, 'abc']);
      assert.throws(notNumber, new RegExp(`^CliError: --${key} must be a number.* \\(got 'abc'\\)$`), `${spec.command} --${key}`);
      if (o.min !== undefined) {
        const below = o.minExclusive ? o.min : o.min - 1;
        assert.throws(() => parseCommandLine(spec, [`--${key}`, String(below)]), new RegExp(`^CliError: --${key} must be ${o.minExclusive ? '>' : '>='} ${o.min} \\(got ${below}\\)$`), `${spec.command} --${key}`);
        checked++;
      }
      if (o.max !== undefined && Number.isSafeInteger(o.max + 1)) {
        assert.throws(() => parseCommandLine(spec, [`--${key}`, String(o.max! + 1)]), new RegExp(`^CliError: --${key} must be <= ${o.max} \\(got ${o.max + 1}\\)$`), `${spec.command} --${key}`);
      }
      if (o.kind === 'integer') assert.throws(() => parseCommandLine(spec, [`--${key}`, String((o.min ?? 0) + 2.5)]), new RegExp(`^CliError: --${key} must be an integer`));
    }
  }
  assert.ok(checked > 40, `${checked} bounded flags checked`);
});

test('help lists every flag with its value, range and default', () => {
  for (const spec of COMMAND_SPECS) {
    const help = renderHelp(spec);
    assert.ok(help.startsWith(`usage: tramontane ${spec.command}`), spec.command);
    for (const key of Object.keys(spec.options)) assert.ok(help.includes(`--${key}`), `${spec.command} --${key}`);
    assert.match(help, /-h, --help/);
  }
  const g = renderHelp(GENERATE_SPEC);
  assert.match(g, /--temperature T\s+sampling temperature; 0 is greedy; >= 0 \(default 1\)/);
  assert.match(renderHelp(SERVE_SPEC), /--enable-prefix-caching, --no-enable-prefix-caching/);
});

test('--dtype: the device\'s own type or auto runs; float16 and the other type are refused by name', async () => {
  await checkDtype('auto', 'cpu');
  await checkDtype('float32', 'cpu');
  await checkDtype('bfloat16', 'cuda');
  await assert.rejects(checkDtype('float16', 'cpu'), /--dtype float16 is not supported on the cpu backend, which computes in float32 \(no float16 kernels/);
  await assert.rejects(checkDtype('float16', 'cuda'), /--dtype float16 is not supported on the cuda backend, which computes in bfloat16/);
  await assert.rejects(checkDtype('bfloat16', 'cpu'), /--dtype bfloat16 is not supported on the cpu backend/);
  await assert.rejects(checkDtype('float32', 'cuda'), /--dtype float32 is not supported on the cuda backend/);
});
