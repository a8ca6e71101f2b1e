// `tramontane bench <target> [options]`: one entry per benchmark target; each parses its own
// options (src/cli/specs/bench.ts), `bench <target> --help` included.
import type { Command } from '../command.js';
import { CliError } from '../errors.js';
import { nearest } from '../options/suggest.js';
import { benchTokenizer } from '../bench/tokenizer.js';
import { benchImage } from '../bench/image.js';
import { benchLatency } from '../bench/latency.js';
import { benchServe } from '../bench/serve.js';
import { benchLoad } from '../bench/load.js';

const targets: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  latency: { summary: "vLLM's latency benchmark, with matmul GFLOP/s beside numpy/OpenBLAS on the CPU", run: benchLatency },
  serve: { summary: "vLLM's benchmark_serving against a running `tramontane serve` (random dataset)", run: benchServe },
  tokenizer: { summary: 'Tekken encode MB/s vs js-tiktoken and tiktoken (WASM), ids checked equal', run: benchTokenizer },
  image: { summary: 'image preprocessing vs sharp (decode + bicubic resize)', run: benchImage },
  load: { summary: 'checkpoint weights onto the device: time and GB/s beside the file-read and host-to-device floor', run: benchLoad },
};

function targetList(): string {
  const width = Math.max(...Object.keys(targets).map((n) => n.length));
  const lines = Object.entries(targets).map(([name, t]) => `  ${name.padEnd(width)}  ${t.summary}`);
  return ['usage: tramontane bench <target> [options]', '', 'targets:', ...lines, '', "'tramontane bench <target> --help' lists a target's options."].join('\n');
}

export const benchCommand: Command = {
  name: 'bench',
  summary: `run a benchmark: ${Object.keys(targets).join(', ')}`,
  async run(args: string[]): Promise<number> {
    const [target, ...rest] = args;
    if (target === '--help' || target === '-h' || target === 'help') {
      process.stdout.write(`${targetList()}\n`);
      return 0;
    }
    const entry = target === undefined ? undefined : targets[target];
    if (!entry) {
      const guess = target === undefined ? null : nearest(target, Object.keys(targets));
      const what = target === undefined ? 'no target given' : `unknown target '${target}'${guess ? ` (did you mean ${guess}?)` : ''}`;
      throw new CliError(`bench: ${what}\n${targetList()}`);
    }
    return entry.run(rest);
  },
};
