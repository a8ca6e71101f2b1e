// /metrics in Prometheus text format with vLLM's metric names, read from the engine.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../engine/engine.js';

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const ITERATION_TOKEN_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
const STEP_BUCKETS = [0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export class ServerMetrics {
  readonly registry = new Registry();

  constructor(engine: Engine, modelName: string) {
    const labels = { model_name: modelName };
    const labelNames = ['model_name'] as const;
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.set(labels, read());
        },
      });
    /** A counter that mirrors an engine total (Prometheus counters only go up). */
    const mirror = (name: string, help: string, read: () => number) => {
      let last = 0;
      return new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          const now = read();
          this.inc(labels, Math.max(0, now - last)); // also 0, so the series shows from the start
          last = Math.max(last, now);
        },
      });
    };
    gauge('vllm:num_requests_running', 'Sequences running on the model this step.', () => engine.scheduler.numRunning);
    gauge('vllm:num_requests_waiting', 'Sequences waiting to be scheduled.', () => engine.scheduler.numWaiting);
    gauge('vllm:kv_cache_usage_perc', 'KV-cache usage, 1 = every block held.', () => engine.blocks.usage());
    gauge('vllm:gpu_cache_usage_perc', 'KV-cache usage, 1 = every block held (older name).', () => engine.blocks.usage());
    mirror('vllm:prefix_cache_queries_total', 'Prompt tokens looked up in the prefix cache.', () => engine.blocks.stats.queries);
    mirror('vllm:prefix_cache_hits_total', 'Prompt tokens found in the prefix cache.', () => engine.blocks.stats.hits);
    mirror('vllm:prompt_tokens_total', 'Prompt tokens received.', () => engine.totals.promptTokens);
    mirror('vllm:generation_tokens_total', 'Tokens generated.', () => engine.totals.generationTokens);
    mirror('vllm:num_preemptions_total', 'Sequences preempted.', () => engine.totals.preemptions);
    mirror('tramontane:engine_steps_total', 'Model steps run.', () => engine.totals.steps);
    mirror('tramontane:engine_execute_seconds_total', 'Seconds the model runner spent executing steps.', () => engine.totals.executeSeconds);
    mirror('tramontane:engine_loop_seconds_total', 'Seconds of the busy step loop (execute plus all host work between steps).', () => engine.totals.loopSeconds);
    const spec = engine.speculator;
    if (spec) {
      mirror('vllm:spec_decode_num_drafts_total', 'Speculative drafts verified (sequence-steps with draft tokens).', () => spec.stats.numDrafts);
      mirror('vllm:spec_decode_num_draft_tokens_total', 'Draft tokens verified.', () => spec.stats.numDraftTokens);
      mirror('vllm:spec_decode_num_accepted_tokens_total', 'Draft tokens accepted.', () => spec.stats.numAcceptedTokens);
      const seen = spec.stats.acceptedPerPosition.map(() => 0);
      new Counter({
        name: 'vllm:spec_decode_num_accepted_tokens_per_pos_total',
        help: 'Draft tokens accepted, by position in the draft (0 = first).',
        labelNames: ['model_name', 'position'],
        registers,
        collect() {
          spec.stats.acceptedPerPosition.forEach((n, j) => {
            this.inc({ ...labels, position: String(j) }, Math.max(0, n - seen[j]));
            seen[j] = Math.max(seen[j], n);
          });
        },
      });
    }
    const success = new Counter({ name: 'vllm:request_success_total', help: 'Requests finished, by finish reason.', labelNames: ['model_name', 'finished_reason'], registers });
    const ttft = new Histogram({ name: 'vllm:time_to_first_token_seconds', help: 'Time to first token.', labelNames, registers, buckets: TTFT_BUCKETS });
    const itl = new Histogram({ name: 'vllm:inter_token_latency_seconds', help: 'Time between tokens of a sequence.', labelNames, registers, buckets: ITL_BUCKETS });
    const tpot = new Histogram({ name: 'vllm:time_per_output_token_seconds', help: 'Time per output token.', labelNames, registers, buckets: ITL_BUCKETS });
    const e2e = new Histogram({ name: 'vllm:e2e_request_latency_seconds', help: 'Request latency, arrival to finish.', labelNames, registers, buckets: E2E_BUCKETS });
    const iterationTokens = new Histogram({ name: 'vllm:iteration_tokens_total', help: 'Tokens per engine step.', labelNames, registers, buckets: ITERATION_TOKEN_BUCKETS });
    const stepSeconds = new Histogram({
      name: 'tramontane:step_execute_seconds',
      help: 'Seconds a model step takes, by kind: decode (every sequence one token) or mixed (a prompt chunk in the batch).',
      labelNames: ['model_name', 'kind'],
      registers,
      buckets: STEP_BUCKETS,
    });
    engine.observers.push({
      onStep: (s) => {
        iterationTokens.observe(labels, s.numBatchedTokens);
        stepSeconds.observe({ ...labels, kind: s.decodeOnly ? 'decode' : 'mixed' }, s.executeSeconds);
      },
      onFirstToken: (s) => ttft.observe(labels, s),
      onInterToken: (s) => {
        itl.observe(labels, s);
        tpot.observe(labels, s);
      },
      onFinished: (s, _p, _g, reason) => {
        e2e.observe(labels, s);
        success.inc({ ...labels, finished_reason: reason });
      },
    });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
