// `tramontane serve [model]`: the OpenAI-compatible HTTP server (vLLM's `vllm serve` flags).
import type { Command } from '../command.js';
import { parseOrHelp } from '../args.js';
import { CliError } from '../errors.js';
import { createCliLogger } from '../logging.js';
import { beforeLoad, logKvCache } from '../modelSetup.js';
import { weightLoadProgress } from '../progress.js';
import { SERVE_SPEC } from '../specs/serve.js';
import { LLM } from '../../engine/llm.js';
import { createServer } from '../../server/app.js';
import { securityOptions } from '../serveSecurityFlags.js';

/** vLLM's --limit-mm-per-prompt: 'image=4' or '{"image": 4}'. */
export function parseImageLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let entries: [string, unknown][];
  if (value.trim().startsWith('{')) {
    try {
      entries = Object.entries(JSON.parse(value) as object);
    } catch {
      throw new CliError(`--limit-mm-per-prompt: '${value}' is not valid JSON`);
    }
  } else {
    entries = value.split(',').map((kv) => {
      const [k, v] = kv.split('=');
      return [k.trim(), v === undefined ? undefined : Number(v)];
    });
  }
  let image: number | undefined;
  for (const [k, v] of entries) {
    if (k !== 'image') throw new CliError(`--limit-mm-per-prompt: unknown modality '${k}' (only image)`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new CliError(`--limit-mm-per-prompt: image must be a non-negative integer (got '${value}')`);
    image = v;
  }
  return image;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the model over an OpenAI-compatible HTTP API',
  async run(args: string[]): Promise<number> {
    const parsed = parseOrHelp(SERVE_SPEC, args);
    if (!parsed) return 0;
    const v = parsed.values;
    if (parsed.positionals.length === 1 && v.model !== undefined) throw new CliError('serve: give the model as an argument or with --model, not both');
    const model = parsed.positionals[0] ?? v.model;
    const log = createCliLogger({ level: v['log-level'], format: v['log-format'] });
    const { port, host } = v;
    const apiKey = v['api-key'] ?? process.env.TRAMONTANE_API_KEY ?? null;
    const limitImagesPerPrompt = parseImageLimit(v['limit-mm-per-prompt']);
    const threadFlag = v['runner-thread'];
    const runnerThread = threadFlag === 'auto' ? undefined : threadFlag === 'on';
    // vLLM's flags for Mistral tool calling: the mistral parser is the only one (and the default).
    if (v['enable-auto-tool-choice'] && v['tool-call-parser'] === undefined) throw new CliError('--enable-auto-tool-choice needs --tool-call-parser mistral (as vLLM)');
    const security = securityOptions(v);
    await beforeLoad(log, { model, loadFormat: v['load-format'], device: v.device, dtype: v.dtype });
    let llm: LLM;
    try {
      llm = await LLM.create({
        model,
        tokenizer: v.tokenizer,
        loadFormat: v['load-format'],
        quantization: v.quantization,
        device: v.device, // default: cuda when a driver and a GPU are present, else cpu
        servedModelName: v['served-model-name'],
        maxModelLen: v['max-model-len'],
        maxNumSeqs: v['max-num-seqs'],
        maxNumBatchedTokens: v['max-num-batched-tokens'],
        gpuMemoryUtilization: v['gpu-memory-utilization'],
        kvCacheTokens: v['kv-cache-tokens'],
        enablePrefixCaching: v['enable-prefix-caching'],
        seed: v.seed,
        grammarCompileTimeoutMs: v['grammar-compile-timeout'] * 1000,
        runnerThread,
        enforceEager: v['enforce-eager'],
        speculativeConfig: v['speculative-config'],
        maxLogprobs: v['max-logprobs'],
        onProgress: weightLoadProgress(),
      });
      logKvCache(log, llm.components.runner.kvCache);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`serve: ${(e as Error).message}`);
    }
    const app = createServer(llm, {
      apiKey,
      bodyLimit: v['max-body-bytes'],
      limitImagesPerPrompt,
      enableAutoToolChoice: v['enable-auto-tool-choice'],
      chatPage: !v['disable-chat-page'],
      returnTokensAsTokenIds: v['return-tokens-as-token-ids'],
      ...security,
      logger: log,
      logRequests: v['enable-log-requests'],
      logStatsIntervalSeconds: v['disable-log-stats'] ? null : v['log-stats-interval'],
    });
    try {
      await app.listen({ host, port });
    } catch (e) {
      await llm.close();
      throw new CliError(`serve: cannot listen on ${host}:${port}: ${(e as Error).message}`);
    }
    const addr = app.server.address();
    const where = typeof addr === 'object' && addr ? `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
    const kv = llm.engine.blocks;
    log.info(
      { component: 'serve' },
      `serving ${llm.modelName} at ${where}/v1 (max model len ${llm.engine.maxModelLen}, KV cache ${kv.numBlocks} blocks x ${kv.blockSize} tokens${apiKey ? ', API key required' : ''})`,
    );
    if (!v['disable-chat-page']) log.info({ component: 'serve' }, `chat page at ${where}/`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    log.info({ component: 'serve' }, 'shutting down');
    // A second signal, or a shutdown stuck for 10 s, ends the process at once.
    const force = (): void => {
      log.error({ component: 'serve' }, 'forced exit');
      process.exit(1);
    };
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    setTimeout(force, 10_000).unref();
    await app.close();
    await llm.close();
    return 0;
  },
};
