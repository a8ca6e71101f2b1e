// vLLM's periodic engine stats line, every `intervalSeconds` while the engine is busy (and once
// more after it goes idle): average prompt and generation throughput over the interval,
// requests running and waiting, KV-cache usage, and the prefix-cache hit rate of the interval's
// prompt tokens.
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';

interface Snapshot {
  readonly at: number;
  readonly promptTokens: number;
  readonly generationTokens: number;
  readonly queries: number;
  readonly hits: number;
}

const pct = (x: number) => (100 * x).toFixed(1);

function snapshot(engine: Engine): Snapshot {
  return { at: performance.now(), promptTokens: engine.totals.promptTokens, generationTokens: engine.totals.generationTokens, queries: engine.blocks.stats.queries, hits: engine.blocks.stats.hits };
}

/** Logs one stats line if anything ran or waits since `prev`; returns the new snapshot. */
export function logStatsOnce(engine: Engine, log: Logger, prev: Snapshot): Snapshot {
  const now = snapshot(engine);
  const seconds = Math.max(1e-9, (now.at - prev.at) / 1000);
  const prompt = now.promptTokens - prev.promptTokens;
  const generation = now.generationTokens - prev.generationTokens;
  const running = engine.scheduler.numRunning;
  const waiting = engine.scheduler.numWaiting;
  if (prompt === 0 && generation === 0 && running === 0 && waiting === 0) return now;
  const queries = now.queries - prev.queries;
  const stats = {
    promptThroughput: prompt / seconds,
    generationThroughput: generation / seconds,
    running,
    waiting,
    kvCacheUsage: engine.blocks.usage(),
    prefixCacheHitRate: queries > 0 ? (now.hits - prev.hits) / queries : 0,
  };
  log.info(
    { component: 'stats', stats },
    `Avg prompt throughput: ${stats.promptThroughput.toFixed(1)} tokens/s, Avg generation throughput: ${stats.generationThroughput.toFixed(1)} tokens/s, ` +
      `Running: ${running} reqs, Waiting: ${waiting} reqs, KV cache usage: ${pct(stats.kvCacheUsage)}%, Prefix cache hit rate: ${pct(stats.prefixCacheHitRate)}%`,
  );
  return now;
}

/** Starts the periodic line; the returned function stops it. The timer never keeps the process alive. */
export function startStatsLogger(engine: Engine, log: Logger, intervalSeconds: number): () => void {
  let prev = snapshot(engine);
  const timer = setInterval(() => {
    prev = logStatsOnce(engine, log, prev);
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
