// `tramontane bench latency`: vLLM's latency benchmark on the CPU backend (batch of dummy
// prompts of input_len tokens, output_len greedy tokens ignoring EOS, warm-up then measured
// iterations, average and percentile latencies), plus the matmul GFLOP/s beside numpy/OpenBLAS.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CliError } from '../errors.js';
import { loadModel } from '../modelSetup.js';
import { parseNumberFlag } from '../parseNumbers.js';
import { runBatch } from './batchLoop.js';
import { numpyGflops, oursGflops, type MatmulFigure } from './matmulReference.js';

const PERCENTILES = [10, 25, 50, 75, 90, 99];

function percentile(sorted: number[], p: number): number {
  // numpy's default (linear interpolation), as vLLM's np.percentile.
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export async function benchLatency(args: string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      options: {
        model: { type: 'string' },
        'input-len': { type: 'string' },
        'output-len': { type: 'string' },
        'batch-size': { type: 'string' },
        'num-iters-warmup': { type: 'string' },
        'num-iters': { type: 'string' },
        'output-json': { type: 'string' },
        'skip-matmul': { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    throw new CliError(`bench latency: ${(e as Error).message}`);
  }
  const inputLen = parseNumberFlag('input-len', v['input-len'], { integer: true, min: 1 }) ?? 32;
  const outputLen = parseNumberFlag('output-len', v['output-len'], { integer: true, min: 1 }) ?? 128;
  const batchSize = parseNumberFlag('batch-size', v['batch-size'], { integer: true, min: 1 }) ?? 8;
  const warmup = parseNumberFlag('num-iters-warmup', v['num-iters-warmup'], { integer: true, min: 0 }) ?? 10;
  const iters = parseNumberFlag('num-iters', v['num-iters'], { integer: true, min: 1 }) ?? 30;
  const maxModelLen = inputLen + outputLen;
  const model = await loadModel({ model: v.model, maxModelLen, maxNumSeqs: batchSize, maxNumBatchedTokens: Math.max(batchSize, Math.min(2048, batchSize * inputLen)) });
  try {
    const vocab = model.runner.limits.vocabSize;
    // Dummy prompts as vLLM's: random ids (here past the control tokens when the vocab allows).
    const lo = vocab > 2000 ? 1000 : 0;
    const prompts = Array.from({ length: batchSize }, () => Array.from({ length: inputLen }, () => lo + Math.floor(Math.random() * (vocab - lo))));
    console.log(`model ${model.checkpoint.dir} (${model.checkpoint.layout}), cpu backend, ${model.backend.threads} threads`);
    console.log(`input_len ${inputLen}, output_len ${outputLen}, batch_size ${batchSize}`);
    for (let i = 0; i < warmup; i++) await runBatch(model.runner, prompts, outputLen);
    const latencies: number[] = [];
    for (let i = 0; i < iters; i++) {
      const t = process.hrtime.bigint();
      await runBatch(model.runner, prompts, outputLen);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    const avg = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    const sorted = [...latencies].sort((a, b) => a - b);
    const percentiles = Object.fromEntries(PERCENTILES.map((p) => [String(p), percentile(sorted, p)]));
    console.log(`Avg latency: ${avg.toFixed(4)} seconds`);
    for (const p of PERCENTILES) console.log(`${p}% percentile latency: ${percentiles[String(p)].toFixed(4)} seconds`);
    const tokensPerSecond = (batchSize * outputLen) / avg;
    console.log(`output tokens/s: ${tokensPerSecond.toFixed(1)}`);
    let matmul: MatmulFigure[] | null = null;
    let numpyNote: string | null = null;
    if (!v['skip-matmul']) {
      const shapes: [number, number, number][] = [[1, 4096, 1024], [128, 1024, 1024], [512, 512, 512]];
      const np = numpyGflops(shapes);
      numpyNote = np.note;
      matmul = shapes.map(([m, n, k], i) => ({ m, n, k, ours_gflops: oursGflops(model.backend, m, n, k), numpy_gflops: np.gflops[i] }));
      console.log(`matmul y = x·wᵀ f32 (ours: cpu backend, ${model.backend.threads} threads; reference: ${np.note})`);
      for (const f of matmul) {
        const ratio = f.numpy_gflops ? ` (${((100 * f.ours_gflops) / f.numpy_gflops).toFixed(1)}% of numpy)` : '';
        console.log(`  ${f.m}x${f.n}x${f.k}: ours ${f.ours_gflops.toFixed(2)} GFLOP/s, numpy ${f.numpy_gflops?.toFixed(2) ?? 'n/a'} GFLOP/s${ratio}`);
      }
    }
    if (v['output-json']) {
      const json = {
        input_len: inputLen, output_len: outputLen, batch_size: batchSize, num_iters_warmup: warmup, num_iters: iters,
        avg_latency: avg, latencies, percentiles, output_tokens_per_second: tokensPerSecond,
        backend: 'cpu', threads: model.backend.threads, model: model.checkpoint.dir, matmul, matmul_reference: numpyNote,
      };
      writeFileSync(v['output-json'], JSON.stringify(json, null, 2) + '\n');
    }
    return 0;
  } finally {
    await model.close();
  }
}
