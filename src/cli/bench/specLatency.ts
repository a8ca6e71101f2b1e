// `tramontane bench latency --speculative-config <JSON object or array>`: end-to-end decode
// through the engine at batch_size, plain first (which also records each prompt's greedy
// continuation), then once per speculative config on the same loaded model. Besides vLLM's
// methods it takes {"method": "replay", "num_speculative_tokens": k, "replay_accept_rate": r}
// (benchmarking only): drafts are the recorded continuation, each token corrupted with
// probability 1 - r, so the verify mechanism is measured at a chosen acceptance (random weights
// make real acceptance meaningless). Per run: decode tok/s (first token to last, median over
// iterations), the median verify-step and plain-step times, acceptance, speedup over plain.
import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { Engine } from '../../engine/engine.js';
import { resolveSamplingParams } from '../../engine/samplingParams.js';
import { parseSpeculativeConfig, type SpeculativeConfig } from '../../engine/speculative/config.js';
import { createSpeculator } from '../../engine/speculative/createSpeculator.js';
import { ReplayProposer } from '../../engine/speculative/replay.js';
import { Speculator } from '../../engine/speculative/speculator.js';
import type { EngineTokenizer } from '../../engine/tokenizerPort.js';
import type { ModelRunner } from '../../model/runner.js';
import { CliError } from '../errors.js';
import { loadModel, type LoadedModel, type LoadModelOptions } from '../modelSetup.js';
import { stepProgress } from '../stepProgress.js';

export interface SpecBenchOptions {
  readonly configJson: string;
  readonly load: LoadModelOptions;
  readonly log: Logger;
  readonly inputLen: number;
  readonly outputLen: number;
  readonly batchSize: number;
  readonly warmup: number;
  readonly iters: number;
  readonly outputJson?: string;
  readonly command: string;
}

interface RunFigures {
  readonly config: SpeculativeConfig | null;
  readonly decode_tokens_per_second: number;
  readonly decode_seconds_median: number;
  readonly step_seconds_median: number | null;
  readonly verify_step_seconds_median: number | null;
  readonly steps_per_iteration: number;
  readonly acceptance: number | null;
  readonly mean_accepted_per_draft: number | null;
  readonly speedup_vs_plain: number | null;
}

/** Token ids only: the bench reads ids, never text (a dummy model may have no tokenizer). */
const idsOnly: EngineTokenizer = {
  bosId: 1,
  eosId: 2,
  vocabSize: 1 << 30,
  encode: () => [],
  decode: () => '',
  tokenText: (id) => `<${id}>`,
  newDetokenizer: () => ({ push: () => '', flush: () => '' }),
};

function parseConfigs(json: string): SpeculativeConfig[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json) as unknown;
  } catch {
    throw new CliError(`--speculative-config: not valid JSON: ${json.slice(0, 80)}`);
  }
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0 || list.length > 64) throw new CliError('--speculative-config: give 1 to 64 configs');
  try {
    return list.map((c) => parseSpeculativeConfig(c, { allowReplay: true }));
  } catch (e) {
    throw new CliError(`--speculative-config: ${(e as Error).message}`);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function runEngine(engine: Engine, prompts: number[][], outputLen: number): Promise<{ decodeSeconds: number; steps: number; outputs: number[][] }> {
  const params = resolveSamplingParams({ temperature: 0, maxTokens: outputLen, ignoreEos: true });
  const before = engine.totals.steps;
  const states = prompts.map((p) => engine.add({ promptTokenIds: p }, params));
  const outs = await Promise.all(states.map((s) => engine.result(s)));
  const first = Math.min(...states.map((s) => s.firstTokenTime ?? 0));
  const last = Math.max(...states.map((s) => s.lastTokenTime ?? 0));
  return { decodeSeconds: (last - first) / 1000, steps: engine.totals.steps - before, outputs: outs.map((o) => [...o.outputs[0].tokenIds]) };
}

export async function benchSpecLatency(o: SpecBenchOptions): Promise<number> {
  const configs = parseConfigs(o.configJson);
  const draftCfg = configs.find((c) => c.method === 'draft_model');
  // A draft model is loaded first so the target's memory plan sees it.
  let draft: LoadedModel | null = null;
  if (draftCfg && draftCfg.method === 'draft_model') {
    draft = await loadModel({ ...o.load, model: draftCfg.model, loadFormat: draftCfg.loadFormat ?? o.load.loadFormat, quantization: undefined, tokenizer: undefined, kvCacheTokens: Math.max(o.load.maxModelLen ?? 0, o.batchSize * (o.inputLen + o.outputLen + 32)) }, o.log);
  }
  const model = await loadModel(o.load, o.log);
  try {
    await model.backend.ready();
    const runner: ModelRunner = model.runner;
    const vocab = runner.limits.vocabSize;
    const lo = vocab > 2000 ? 1000 : 0;
    const prompts = Array.from({ length: o.batchSize }, () => Array.from({ length: o.inputLen }, () => lo + Math.floor(Math.random() * (vocab - lo))));
    const engineOptions = { maxNumSeqs: o.batchSize, maxNumBatchedTokens: runner.limits.maxNumBatchedTokens, enablePrefixCaching: false };
    console.log(`model ${model.source.origin}, ${model.backend.name} backend on ${model.backend.describe().device}; input_len ${o.inputLen}, output_len ${o.outputLen}, batch_size ${o.batchSize}`);
    const measure = async (speculator: Speculator | null): Promise<{ fig: Omit<RunFigures, 'config' | 'speedup_vs_plain'>; outputs: number[][] }> => {
      // Plain runs get a speculator that proposes nothing: the engine then starts each iteration
      // with every prompt queued (it awaits the proposer before its first schedule), as with drafts.
      const none = new Speculator({ propose: async () => undefined }, 1, false);
      const engine = new Engine(runner, idsOnly, { ...engineOptions, speculator: speculator ?? none });
      const plainSteps: number[] = [];
      const verifySteps: number[] = [];
      let record = false;
      engine.observers.push({
        onStep: (s) => {
          if (!record) return;
          if (s.decodeOnly) plainSteps.push(s.executeSeconds);
          else if (s.numDraftTokens > 0 && s.numBatchedTokens - s.numDraftTokens <= o.batchSize) verifySteps.push(s.executeSeconds); // no prompt chunk in it
        },
      });
      // Progress on stderr, one phase per run (plain and each config): warm-up then measured.
      const label = `bench latency: ${speculator ? 'speculative' : 'plain'}`;
      const progress = stepProgress(label, o.warmup + o.iters);
      for (let i = 0; i < o.warmup; i++) {
        await runEngine(engine, prompts, o.outputLen);
        progress.tick(1, 'warm-up');
      }
      record = true;
      const decode: number[] = [];
      const steps: number[] = [];
      let outputs: number[][] = [];
      const s0 = speculator ? { ...speculator.stats } : null;
      for (let i = 0; i < o.iters; i++) {
        const r = await runEngine(engine, prompts, o.outputLen);
        decode.push(r.decodeSeconds);
        steps.push(r.steps);
        outputs = r.outputs;
        progress.tick(1, 'measuring');
      }
      progress.done();
      const st = speculator?.stats;
      const drafts = st && s0 ? st.numDraftTokens - s0.numDraftTokens : 0;
      const accepted = st && s0 ? st.numAcceptedTokens - s0.numAcceptedTokens : 0;
      const numDrafts = st && s0 ? st.numDrafts - s0.numDrafts : 0;
      const d = median(decode);
      return {
        fig: {
          decode_tokens_per_second: (o.batchSize * (o.outputLen - 1)) / d,
          decode_seconds_median: d,
          step_seconds_median: plainSteps.length ? median(plainSteps) : null,
          verify_step_seconds_median: verifySteps.length ? median(verifySteps) : null,
          steps_per_iteration: median(steps),
          acceptance: st ? (drafts > 0 ? accepted / drafts : 0) : null,
          mean_accepted_per_draft: st ? (numDrafts > 0 ? accepted / numDrafts : 0) : null,
        },
        outputs,
      };
    };
    const plain = await measure(null);
    const recordings = new Map(prompts.map((p, i) => [p.join(','), plain.outputs[i]]));
    const runs: RunFigures[] = [{ config: null, ...plain.fig, speedup_vs_plain: 1 }];
    const show = (r: RunFigures) => {
      const ms = (x: number | null) => (x === null ? '-' : `${(x * 1e3).toFixed(2)} ms`);
      console.log(
        `${r.config ? JSON.stringify(r.config) : 'plain'}: decode ${r.decode_tokens_per_second.toFixed(1)} tok/s (x${(r.speedup_vs_plain ?? 1).toFixed(2)}), plain step ${ms(r.step_seconds_median)}, verify step ${ms(r.verify_step_seconds_median)}, ${r.steps_per_iteration} steps` +
          (r.acceptance === null ? '' : `, acceptance ${(100 * r.acceptance).toFixed(1)}%, ${r.mean_accepted_per_draft?.toFixed(2)} accepted a draft`),
      );
    };
    show(runs[0]);
    for (const config of configs) {
      let speculator: Speculator;
      if (config.method === 'replay') speculator = new Speculator(new ReplayProposer(recordings, config.acceptRate, vocab, 1, true), config.numSpeculativeTokens, config.adaptive);
      else speculator = await createSpeculator(config, { vocabSize: vocab, eosTokenId: idsOnly.eosId }, config.method === 'draft_model' && draft ? draft.runner : null);
      const r = await measure(speculator);
      const same = r.outputs.every((t, i) => t.length === plain.outputs[i].length && t.every((x, j) => x === plain.outputs[i][j]));
      if (!same && config.method !== 'replay') console.log('  note: some greedy outputs differ from the plain run (near-ties in low precision; see the CUDA spec test)');
      const fig: RunFigures = { config, ...r.fig, speedup_vs_plain: r.fig.decode_tokens_per_second / plain.fig.decode_tokens_per_second };
      runs.push(fig);
      show(fig);
    }
    if (o.outputJson) {
      const about = model.backend.describe();
      writeFileSync(o.outputJson, JSON.stringify({ command: o.command, date: new Date().toISOString(), device: about.device, backend: model.backend.name, model: model.source.origin, input_len: o.inputLen, output_len: o.outputLen, batch_size: o.batchSize, num_iters: o.iters, num_iters_warmup: o.warmup, runs }, null, 2) + '\n');
    }
    return 0;
  } finally {
    await model.close();
    await draft?.close();
  }
}
