// vLLM benchmark_serving's summary: throughput and TTFT / TPOT / ITL / E2EL statistics in ms.
import type { RequestRecord } from './serveClient.js';

export interface StatBlock {
  readonly mean: number;
  readonly median: number;
  readonly std: number;
  readonly percentiles: readonly [number, number][];
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Statistics of seconds, reported in milliseconds (numpy's conventions: population std,
 *  linear-interpolated percentiles). */
export function stats(seconds: readonly number[], percentiles: readonly number[]): StatBlock {
  const ms = seconds.map((s) => s * 1000).sort((a, b) => a - b);
  const n = ms.length;
  const mean = n === 0 ? 0 : ms.reduce((a, b) => a + b, 0) / n;
  const std = n === 0 ? 0 : Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { mean, median: percentile(ms, 50), std, percentiles: percentiles.map((p) => [p, percentile(ms, p)] as [number, number]) };
}

export interface ServeBenchSummary {
  readonly completed: number;
  readonly failed: number;
  readonly duration: number;
  readonly totalInputTokens: number;
  readonly totalOutputTokens: number;
  readonly requestThroughput: number;
  readonly outputThroughput: number;
  readonly totalTokenThroughput: number;
  readonly ttft: StatBlock;
  readonly tpot: StatBlock;
  readonly itl: StatBlock;
  readonly e2el: StatBlock;
  /** Fraction of the server's busy step loop not spent in the model runner (null: unknown). */
  readonly hostOverhead?: number | null;
}

export function summarize(records: readonly RequestRecord[], duration: number, percentiles: readonly number[]): ServeBenchSummary {
  const ok = records.filter((r) => r.success);
  const totalIn = ok.reduce((n, r) => n + r.promptLen, 0);
  const totalOut = ok.reduce((n, r) => n + r.outputLen, 0);
  const tpots = ok.filter((r) => r.outputLen > 1).map((r) => (r.latency - r.ttft) / (r.outputLen - 1));
  return {
    completed: ok.length,
    failed: records.length - ok.length,
    duration,
    totalInputTokens: totalIn,
    totalOutputTokens: totalOut,
    requestThroughput: ok.length / duration,
    outputThroughput: totalOut / duration,
    totalTokenThroughput: (totalIn + totalOut) / duration,
    ttft: stats(ok.map((r) => r.ttft), percentiles),
    tpot: stats(tpots, percentiles),
    itl: stats(ok.flatMap((r) => r.itl), percentiles),
    e2el: stats(ok.map((r) => r.latency), percentiles),
  };
}

export function formatSummary(s: ServeBenchSummary): string {
  const line = (label: string, value: number | string) => `${label.padEnd(40)}${typeof value === 'number' ? value.toFixed(2) : value}`;
  const head = (t: string) => t.padStart(25 + Math.ceil(t.length / 2), '-').padEnd(50, '-');
  const block = (title: string, name: string, b: StatBlock) => [
    head(title),
    line(`Mean ${name} (ms):`, b.mean),
    line(`Median ${name} (ms):`, b.median),
    ...b.percentiles.map(([p, v]) => line(`P${p} ${name} (ms):`, v)),
  ];
  return [
    '{s:=^50}'.replace('{s:=^50}', ' Serving Benchmark Result '.padStart(38, '=').padEnd(50, '=')),
    line('Successful requests:', String(s.completed)),
    ...(s.failed > 0 ? [line('Failed requests:', String(s.failed))] : []),
    line('Benchmark duration (s):', s.duration),
    line('Total input tokens:', String(s.totalInputTokens)),
    line('Total generated tokens:', String(s.totalOutputTokens)),
    line('Request throughput (req/s):', s.requestThroughput),
    line('Output token throughput (tok/s):', s.outputThroughput),
    line('Total Token throughput (tok/s):', s.totalTokenThroughput),
    ...(s.hostOverhead != null ? [line('Server host overhead (% of step loop):', 100 * s.hostOverhead)] : []),
    ...block('Time to First Token', 'TTFT', s.ttft),
    ...block('Time per Output Token (excl. 1st token)', 'TPOT', s.tpot),
    ...block('Inter-token Latency', 'ITL', s.itl),
    ...block('End-to-end Latency', 'E2EL', s.e2el),
    '='.repeat(50),
  ].join('\n');
}
