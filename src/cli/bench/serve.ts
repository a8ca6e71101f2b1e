// `tramontane bench serve`: vLLM's benchmark_serving against a running server
// (`tramontane serve`), random dataset only.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOrHelp } from '../args.js';
import { createCliLogger } from '../logging.js';
import { BENCH_SERVE_SPEC } from '../specs/bench.js';
import { stepProgress } from '../stepProgress.js';
import { CliError } from '../errors.js';
import { parseNumberFlag } from '../parseNumbers.js';
import { randomRequests, runRequests, type RequestRecord, type ServeBenchOptions } from './serveClient.js';
import { formatSummary, summarize, type ServeBenchSummary } from './serveMetrics.js';

/** Tekken's special tokens: ids below this are control tokens ([INST], [IMG], ...). */
const TEKKEN_SPECIAL_TOKENS = 1000;

/** The served model's vocabulary size, read off the server: the largest id its /detokenize
 *  accepts, plus one (vLLM's and ours refuse ids outside the vocabulary). Null when the
 *  server has no /detokenize. */
export async function probeVocabSize(baseUrl: string, model: string | undefined, apiKey: string | null): Promise<number | null> {
  const accepts = async (id: number): Promise<boolean | null> => {
    const res = await fetch(`${baseUrl}/detokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
      body: JSON.stringify({ tokens: [id], ...(model ? { model } : {}) }),
    });
    if (res.status === 404) return null;
    return res.ok;
  };
  if ((await accepts(0)) !== true) return null;
  let lo = 0; // accepted
  let hi = 1 << 24; // refused (no vocabulary is that large)
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (await accepts(mid)) lo = mid;
    else hi = mid;
  }
  return lo + 1;
}

/** Prompt ids: the normal tokens of the given tekken.json, else of the served model's vocabulary. */
async function idRange(tokenizer: string | undefined, server: { baseUrl: string; model: string | undefined; apiKey: string | null }): Promise<[number, number]> {
  if (tokenizer === undefined) {
    const vocab = await probeVocabSize(server.baseUrl, server.model, server.apiKey);
    if (vocab === null) throw new CliError(`bench serve: ${server.baseUrl} does not say its vocabulary (no /detokenize); pass --tokenizer <tekken.json>`);
    if (vocab <= TEKKEN_SPECIAL_TOKENS) throw new CliError(`bench serve: the served vocabulary has ${vocab} ids, none past Tekken's ${TEKKEN_SPECIAL_TOKENS} special tokens; pass --tokenizer`);
    return [TEKKEN_SPECIAL_TOKENS, vocab];
  }
  let json: { config?: { default_num_special_tokens?: number; default_vocab_size?: number } };
  try {
    json = JSON.parse(readFileSync(tokenizer, 'utf8'));
  } catch (e) {
    throw new CliError(`--tokenizer ${tokenizer}: ${(e as Error).message}`);
  }
  const special = json.config?.default_num_special_tokens ?? TEKKEN_SPECIAL_TOKENS;
  const vocab = json.config?.default_vocab_size ?? 131072;
  return [special, vocab];
}

export interface BenchServeResult {
  readonly summary: ServeBenchSummary;
  readonly json: Record<string, unknown>;
}

/** The engine's execute and busy-loop seconds from the server's /metrics (null when absent). */
async function engineSeconds(o: ServeBenchOptions): Promise<{ execute: number; loop: number } | null> {
  try {
    const res = await fetch(`${o.baseUrl}/metrics`, { headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {} });
    const text = await res.text();
    const read = (name: string): number | null => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    const execute = read('tramontane:engine_execute_seconds_total');
    const loop = read('tramontane:engine_loop_seconds_total');
    return execute === null || loop === null ? null : { execute, loop };
  } catch {
    return null;
  }
}

export async function runServeBenchmark(o: ServeBenchOptions, percentiles: readonly number[], onRecord?: (r: RequestRecord) => void): Promise<BenchServeResult> {
  const requests = randomRequests(o);
  const before = await engineSeconds(o);
  const { records, duration } = await runRequests(o, requests, onRecord);
  const after = await engineSeconds(o);
  // Host share of the server's busy step loop: scheduling, batch building, detokenisation,
  // HTTP and SSE work, everything that is not the model runner's execute.
  const hostOverhead = before && after && after.loop > before.loop ? 1 - (after.execute - before.execute) / (after.loop - before.loop) : null;
  const summary = { ...summarize(records, duration, percentiles), hostOverhead };
  const json: Record<string, unknown> = {
    date: new Date().toISOString(),
    backend: 'tramontane',
    base_url: o.baseUrl,
    model_id: o.model,
    dataset_name: 'random',
    random_input_len: o.inputLen,
    random_output_len: o.outputLen,
    random_range_ratio: o.rangeRatio,
    num_prompts: o.numPrompts,
    request_rate: Number.isFinite(o.requestRate) ? o.requestRate : 'inf',
    burstiness: o.burstiness,
    max_concurrency: o.maxConcurrency,
    duration: summary.duration,
    completed: summary.completed,
    failed: summary.failed,
    total_input_tokens: summary.totalInputTokens,
    total_output_tokens: summary.totalOutputTokens,
    request_throughput: summary.requestThroughput,
    output_throughput: summary.outputThroughput,
    total_token_throughput: summary.totalTokenThroughput,
    server_host_overhead: summary.hostOverhead,
    input_lens: records.map((r) => r.promptLen),
    output_lens: records.map((r) => r.outputLen),
    ttfts: records.map((r) => r.ttft),
    itls: records.map((r) => r.itl),
    errors: records.map((r) => r.error),
  };
  for (const [name, b] of [['ttft', summary.ttft], ['tpot', summary.tpot], ['itl', summary.itl], ['e2el', summary.e2el]] as const) {
    json[`mean_${name}_ms`] = b.mean;
    json[`median_${name}_ms`] = b.median;
    json[`std_${name}_ms`] = b.std;
    for (const [p, v] of b.percentiles) json[`p${p}_${name}_ms`] = v;
  }
  return { summary, json };
}

export async function benchServe(args: string[]): Promise<number> {
  const parsed = parseOrHelp(BENCH_SERVE_SPEC, args);
  if (!parsed) return 0;
  const v = parsed.values;
  const log = createCliLogger({ level: v['log-level'], format: v['log-format'] });
  const baseUrl = (v['base-url'] ?? `http://${v.host}:${v.port}`).replace(/\/+$/, '').replace(/\/v1$/, '');
  const apiKey = v['api-key'] ?? process.env.TRAMONTANE_API_KEY ?? null;
  const requestRate = v['request-rate'];
  const rateText = Number.isFinite(requestRate) ? String(requestRate) : 'inf';
  const percentiles = v['metric-percentiles'].split(',').map((p) => parseNumberFlag('metric-percentiles', p, { min: 0, max: 100 })!);
  let model = v.model;
  try {
    const res = await fetch(`${baseUrl}/v1/models`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const list = (await res.json()) as { data: { id: string }[] };
    model ??= list.data[0]?.id;
  } catch (e) {
    throw new CliError(`bench serve: no server at ${baseUrl} (${(e as Error).message}); start one with 'tramontane serve'`);
  }
  const [lowId, highId] = await idRange(v.tokenizer, { baseUrl, model, apiKey });
  const options: ServeBenchOptions = {
    baseUrl,
    model: model ?? '',
    apiKey,
    numPrompts: v['num-prompts'],
    inputLen: v['random-input-len'],
    outputLen: v['random-output-len'],
    rangeRatio: v['random-range-ratio'],
    requestRate,
    burstiness: v.burstiness,
    maxConcurrency: v['max-concurrency'] ?? null,
    seed: v.seed,
    lowId,
    highId,
    ignoreEos: v['ignore-eos'],
  };
  log.info({ component: 'bench' }, `bench serve: ${options.numPrompts} prompts of ${options.inputLen} in / ${options.outputLen} out at ${rateText} req/s, max concurrency ${options.maxConcurrency ?? 'none'}, against ${baseUrl} (${options.model})`);
  const progress = stepProgress('bench serve: requests', options.numPrompts);
  let failed = 0;
  const { summary, json } = await runServeBenchmark(options, percentiles, (r) => {
    if (r.error !== '') failed++;
    progress.tick(1, failed > 0 ? `${failed} failed` : '');
  });
  progress.done();
  console.log(formatSummary(summary));
  if (v['save-result'] || v['result-filename']) {
    const name = v['result-filename'] ?? `tramontane-${rateText}qps-concurrency${options.maxConcurrency ?? 'none'}-${new Date().toISOString().replace(/[:.]/g, '')}.json`;
    const path = join(v['result-dir'], name);
    writeFileSync(path, JSON.stringify(json, null, 2) + '\n');
    log.info({ component: 'bench' }, `bench serve: result saved to ${path}`);
  }
  const errors = (json.errors as string[]).filter((e) => e !== '');
  if (errors.length > 0) log.error({ component: 'bench' }, `bench serve: ${errors.length} requests failed, first: ${errors[0]}`);
  return summary.failed > 0 ? 1 : 0;
}
