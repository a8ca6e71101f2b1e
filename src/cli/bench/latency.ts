// `tramontane bench latency`: vLLM's latency benchmark (batch of dummy prompts of input_len
// tokens, output_len greedy tokens ignoring EOS, warm-up then measured iterations, average and
// percentile latencies) on the CPU or CUDA backend, with the prefill (time to the first tokens)
// and decode parts timed apart; then (unless --skip-matmul) the CPU backend's matmul GFLOP/s
// beside numpy/OpenBLAS.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseOrHelp } from '../args.js';
import { createDeviceBackend } from '../../backend/deviceBackend.js';
import { createCliLogger } from '../logging.js';
import { loadModel } from '../modelSetup.js';
import { checkRange } from '../parseNumbers.js';
import { BENCH_LATENCY_SPEC } from '../specs/bench.js';
import { stepProgress } from '../stepProgress.js';
import { runBatch, type BatchTiming } from './batchLoop.js';
import { benchSpecLatency } from './specLatency.js';
import { numpyGflops, oursGflops, type MatmulFigure } from './matmulReference.js';
import { BenchConstraint } from './structuredBench.js';

const PERCENTILES = [10, 25, 50, 75, 90, 99];

function percentile(sorted: number[], p: number): number {
  // numpy's default (linear interpolation), as vLLM's np.percentile.
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** The same batches again with every sequence constrained by a JSON schema; the decode step's
 *  median against the free run's (measured just before, same prompts). */
async function benchConstrained(
  schemaFile: string,
  tokenizerPath: string | null | undefined,
  runner: Parameters<typeof runBatch>[0],
  prompts: number[][],
  outputLen: number,
  warmup: number,
  iters: number,
  freeDecodeSeconds: number,
  median: (xs: number[]) => number,
): Promise<Record<string, unknown>> {
  if (!tokenizerPath) throw new Error('--structured-outputs-json needs a tokenizer (--tokenizer <tekken.json>, or a model directory with one)');
  const c = await BenchConstraint.create(schemaFile, tokenizerPath, runner.limits.vocabSize);
  try {
    console.log(`structured outputs: schema ${schemaFile} compiled in ${c.compileMs.toFixed(1)} ms`);
    const decode: number[] = [];
    for (let i = 0; i < warmup + iters; i++) {
      const timing: BatchTiming = { prefillSeconds: 0, decodeSeconds: 0 };
      const k = c.forBatch(prompts.length);
      try {
        await runBatch(runner, prompts, outputLen, timing, k);
      } finally {
        k.close();
      }
      if (i >= warmup) decode.push(timing.decodeSeconds);
    }
    const steps = Math.max(1, outputLen - 1);
    const constrained = median(decode) / steps;
    const free = freeDecodeSeconds / steps;
    const overhead = (constrained / free - 1) * 100;
    const fill = median(c.fillMs);
    console.log(`constrained decode (median): ${(constrained * 1e3).toFixed(3)} ms a step vs free ${(free * 1e3).toFixed(3)} ms: ${overhead >= 0 ? '+' : ''}${overhead.toFixed(2)}%; mask fill in the grammar worker ${fill.toFixed(3)} ms a step (median, overlapped with the forward pass)`);
    return { schema_file: schemaFile, schema: JSON.parse(readFileSync(schemaFile, 'utf8')) as unknown, compile_ms: c.compileMs, constrained_decode_step_seconds: constrained, free_decode_step_seconds: free, overhead_percent: overhead, mask_fill_ms_median: fill, iters, warmup };
  } finally {
    await c.close();
  }
}

export async function benchLatency(args: string[]): Promise<number> {
  const parsed = parseOrHelp(BENCH_LATENCY_SPEC, args);
  if (!parsed) return 0;
  const v = parsed.values;
  const log = createCliLogger({ level: v['log-level'], format: v['log-format'] });
  const { 'input-len': inputLen, 'output-len': outputLen, 'batch-size': batchSize, 'num-iters-warmup': warmup, 'num-iters': iters } = v;
  const maxNumBatchedTokens = v['max-num-batched-tokens'] ?? Math.max(batchSize, Math.min(2048, batchSize * inputLen));
  checkRange('max-num-batched-tokens', maxNumBatchedTokens, { min: batchSize });
  const maxModelLen = v['max-model-len'] ?? inputLen + outputLen;
  checkRange('max-model-len', maxModelLen, { min: inputLen + outputLen });
  const enforceEager = v['enforce-eager'];
  if (v['speculative-config'] !== undefined) {
    const load = { model: v.model, tokenizer: v.tokenizer, loadFormat: v['load-format'], quantization: v.quantization, device: v.device, dtype: v.dtype, maxModelLen: maxModelLen + 32, maxNumSeqs: batchSize, maxNumBatchedTokens, enforceEager };
    return benchSpecLatency({ configJson: v['speculative-config'], load, log, inputLen, outputLen, batchSize, warmup, iters, outputJson: v['output-json'], command: `tramontane bench latency ${args.join(' ')}` });
  }
  const model = await loadModel({ model: v.model, tokenizer: v.tokenizer, loadFormat: v['load-format'], quantization: v.quantization, device: v.device, dtype: v.dtype, maxModelLen, maxNumSeqs: batchSize, maxNumBatchedTokens, enforceEager }, log);
  try {
    await model.backend.ready();
    const about = model.backend.describe();
    const vocab = model.runner.limits.vocabSize;
    // Dummy prompts as vLLM's: random ids (here past the control tokens when the vocab allows).
    const lo = vocab > 2000 ? 1000 : 0;
    const prompts = Array.from({ length: batchSize }, () => Array.from({ length: inputLen }, () => lo + Math.floor(Math.random() * (vocab - lo))));
    console.log(`model ${model.source.origin}, ${model.source.weights.config.dtype} weights, ${model.backend.name} backend on ${about.device}`);
    console.log(`input_len ${inputLen}, output_len ${outputLen}, batch_size ${batchSize}, max_model_len ${maxModelLen}${enforceEager ? ', enforce-eager' : ''}`);
    const warming = stepProgress('bench latency: warm-up', warmup);
    for (let i = 0; i < warmup; i++) {
      await runBatch(model.runner, prompts, outputLen);
      warming.tick();
    }
    warming.done();
    const measuring = stepProgress('bench latency: measuring', iters);
    const latencies: number[] = [];
    const prefill: number[] = [];
    const decode: number[] = [];
    for (let i = 0; i < iters; i++) {
      const timing: BatchTiming = { prefillSeconds: 0, decodeSeconds: 0 };
      const t = process.hrtime.bigint();
      await runBatch(model.runner, prompts, outputLen, timing);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e9);
      prefill.push(timing.prefillSeconds);
      decode.push(timing.decodeSeconds);
      measuring.tick(1, `last ${latencies[i].toFixed(3)} s`);
    }
    measuring.done();
    const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
    let structured: Record<string, unknown> | null = null;
    if (v['structured-outputs-json']) structured = await benchConstrained(v['structured-outputs-json'], v.tokenizer ?? model.source.tokenizerPath, model.runner, prompts, outputLen, Math.min(warmup, 3), iters, median(decode), median);
    const prefillSeconds = median(prefill);
    const decodeSeconds = median(decode);
    const prefillTokensPerSecond = (batchSize * inputLen) / prefillSeconds;
    const decodeTokensPerSecond = outputLen > 1 ? (batchSize * (outputLen - 1)) / decodeSeconds : null;
    const avg = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    const sorted = [...latencies].sort((a, b) => a - b);
    const percentiles = Object.fromEntries(PERCENTILES.map((p) => [String(p), percentile(sorted, p)]));
    console.log(`Avg latency: ${avg.toFixed(4)} seconds`);
    for (const p of PERCENTILES) console.log(`${p}% percentile latency: ${percentiles[String(p)].toFixed(4)} seconds`);
    const tokensPerSecond = (batchSize * outputLen) / avg;
    console.log(`output tokens/s: ${tokensPerSecond.toFixed(1)}`);
    console.log(`prefill (to the first tokens, median): ${(prefillSeconds * 1e3).toFixed(1)} ms, ${prefillTokensPerSecond.toFixed(0)} prompt tokens/s`);
    if (decodeTokensPerSecond !== null) console.log(`decode (median): ${((decodeSeconds * 1e3) / (outputLen - 1)).toFixed(2)} ms a step, ${decodeTokensPerSecond.toFixed(1)} tokens/s`);
    let matmul: MatmulFigure[] | null = null;
    let numpyNote: string | null = null;
    if (!v['skip-matmul']) {
      const shapes: [number, number, number][] = [[1, 4096, 1024], [128, 1024, 1024], [512, 512, 512]];
      const np = numpyGflops(shapes);
      numpyNote = np.note;
      const cpu = await createDeviceBackend('cpu');
      try {
        await cpu.ready();
        matmul = shapes.map(([m, n, k], i) => ({ m, n, k, ours_gflops: oursGflops(cpu, m, n, k), numpy_gflops: np.gflops[i] }));
        console.log(`matmul y = x·wᵀ f32 (ours: cpu backend on ${cpu.describe().device}; reference: ${np.note})`);
      } finally {
        await cpu.close();
      }
      for (const f of matmul) {
        const ratio = f.numpy_gflops ? ` (${((100 * f.ours_gflops) / f.numpy_gflops).toFixed(1)}% of numpy)` : '';
        console.log(`  ${f.m}x${f.n}x${f.k}: ours ${f.ours_gflops.toFixed(2)} GFLOP/s, numpy ${f.numpy_gflops?.toFixed(2) ?? 'n/a'} GFLOP/s${ratio}`);
      }
    }
    if (v['output-json']) {
      const json = {
        command: `tramontane bench latency ${args.join(' ')}`, date: new Date().toISOString(),
        input_len: inputLen, output_len: outputLen, batch_size: batchSize, num_iters_warmup: warmup, num_iters: iters,
        avg_latency: avg, latencies, percentiles, output_tokens_per_second: tokensPerSecond,
        prefill_seconds_median: prefillSeconds, prefill_tokens_per_second: prefillTokensPerSecond,
        decode_seconds_median: decodeSeconds, decode_tokens_per_second: decodeTokensPerSecond,
        max_num_batched_tokens: maxNumBatchedTokens, max_model_len: maxModelLen, enforce_eager: enforceEager,
        decode_graphs: (model.runner as { decodeGraphCount?: number }).decodeGraphCount ?? null,
        backend: model.backend.name, device: about.device, threads: about.threads, model: model.source.origin,
        ...model.backend.describe().details, // described again after the run: autotuning records fill in as shapes are first used
        load_format: v['load-format'] ?? 'auto', dtype: model.source.weights.config.dtype, matmul, matmul_reference: numpyNote,
        structured_outputs: structured,
      };
      writeFileSync(v['output-json'], JSON.stringify(json, null, 2) + '\n');
    }
    return 0;
  } finally {
    await model.close();
  }
}
