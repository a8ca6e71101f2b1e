import type { Command } from '../command.js';
import { CliError } from '../errors.js';
import { benchTokenizer } from '../bench/tokenizer.js';
import { benchImage } from '../bench/image.js';
import { benchLatency } from '../bench/latency.js';
import { benchServe } from '../bench/serve.js';
import { benchLoad } from '../bench/load.js';

// One entry per benchmark target: `tramontane bench <target> [options]`.
const targets: Record<string, { summary: string; run: (args: string[]) => Promise<number> }> = {
  latency: { summary: "vLLM's latency benchmark, with matmul GFLOP/s beside numpy/OpenBLAS on the CPU", run: benchLatency },
  serve: { summary: "vLLM's benchmark_serving against a running `tramontane serve` (random dataset)", run: benchServe },
  tokenizer: { summary: 'Tekken encode MB/s vs js-tiktoken and tiktoken (WASM), ids checked equal', run: benchTokenizer },
  image: { summary: 'image preprocessing vs sharp (decode + bicubic resize)', run: benchImage },
  load: { summary: 'checkpoint weights onto the device: time and GB/s beside the file-read and host-to-device floor', run: benchLoad },
};

export const benchCommand: Command = {
  name: 'bench',
  summary: `run a benchmark: ${Object.keys(targets).join(', ')}`,
  async run(args: string[]): Promise<number> {
    const [target, ...rest] = args;
    const entry = target === undefined ? undefined : targets[target];
    if (!entry) {
      const list = Object.entries(targets).map(([name, t]) => `  ${name}  ${t.summary}`);
      throw new CliError(`bench: ${target === undefined ? 'no target given' : `unknown target '${target}'`}; targets:\n${list.join('\n')}`);
    }
    return entry.run(rest);
  },
};
