// `tramontane serve [model]`: the OpenAI-compatible HTTP server (vLLM's `vllm serve` flags).
import { kvCacheLine, weightLoadProgress } from '../progress.js';
import type { Command } from '../command.js';
import { parseFlagsWithHelp } from '../args.js';
import { CliError } from '../errors.js';
import { checkQuantizationFlag, MODEL_FLAGS } from '../modelSetup.js';
import { parseNumberFlag } from '../parseNumbers.js';
import { LLM } from '../../engine/llm.js';
import { createServer, DEFAULT_BODY_LIMIT } from '../../server/app.js';
import { SECURITY_FLAGS, SECURITY_USAGE, securityOptions } from '../serveSecurityFlags.js';

const USAGE = `usage: tramontane serve [model] [--host H] [--port P] [--api-key KEY] [--served-model-name NAME]
  [--max-model-len N] [--max-num-seqs N] [--max-num-batched-tokens N] [--gpu-memory-utilization F] [--enforce-eager]
  [--kv-cache-tokens N] [--limit-mm-per-prompt image=N] [--device cpu|cuda] [--load-format auto|dummy] [--quantization fp8]
  [--tokenizer <tekken.json>] [--max-body-bytes N] [--no-enable-prefix-caching] [--runner-thread auto|on|off]
  [--speculative-config '{"method":"ngram","num_speculative_tokens":4,"prompt_lookup_max":4,"prompt_lookup_min":2}']
  [--grammar-compile-timeout SECONDS] (structured outputs: longer compiles are refused with a 400; default 30)
  [--enable-auto-tool-choice] [--tool-call-parser mistral] [--tokenizer-mode mistral]
  [--max-logprobs N] (most logprobs a request may ask for; default 20, as vLLM)
  [--return-tokens-as-token-ids] (logprob tokens as 'token_id:N' instead of their text)
${SECURITY_USAGE}
Image URLs: http(s) to public hosts and data: only, unless widened by the flags above (README "Security").
Without a model it serves the embedded tiny checkpoint (random weights: meaningless text).
The API key may also come from TRAMONTANE_API_KEY; with one set, every route but /health needs
"Authorization: Bearer <key>".`;

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
    const parsed = parseFlagsWithHelp(
      'serve',
      USAGE,
      args,
      {
        ...MODEL_FLAGS,
        host: { type: 'string' },
        port: { type: 'string' },
        'api-key': { type: 'string' },
        'served-model-name': { type: 'string' },
        'max-num-seqs': { type: 'string' },
        'max-num-batched-tokens': { type: 'string' },
        'gpu-memory-utilization': { type: 'string' },
        'kv-cache-tokens': { type: 'string' },
        'limit-mm-per-prompt': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'no-enable-prefix-caching': { type: 'boolean' },
        'grammar-compile-timeout': { type: 'string' },
        'runner-thread': { type: 'string' },
        'enforce-eager': { type: 'boolean' },
        'enable-auto-tool-choice': { type: 'boolean' },
        'tool-call-parser': { type: 'string' },
        'tokenizer-mode': { type: 'string' },
        ...SECURITY_FLAGS,
        'speculative-config': { type: 'string' },
        'max-logprobs': { type: 'string' },
        'return-tokens-as-token-ids': { type: 'boolean' },
      },
      true,
    );
    if (!parsed) return 0;
    const v = parsed.values;
    if (parsed.positionals.length > 1) throw new CliError(`serve: one model directory at most (got ${parsed.positionals.join(' ')})\n${USAGE}`);
    if (parsed.positionals.length === 1 && v.model !== undefined) throw new CliError('serve: give the model as an argument or with --model, not both');
    const model = parsed.positionals[0] ?? v.model;
    const loadFormat = v['load-format'] ?? 'auto';
    if (loadFormat !== 'auto' && loadFormat !== 'dummy') throw new CliError(`--load-format must be auto or dummy (got ${loadFormat})`);
    const quantization = checkQuantizationFlag(v.quantization);
    const port = parseNumberFlag('port', v.port, { integer: true, min: 0, max: 65535 }) ?? 8000;
    const host = v.host ?? '127.0.0.1';
    const apiKey = v['api-key'] ?? process.env.TRAMONTANE_API_KEY ?? null;
    const bodyLimit = parseNumberFlag('max-body-bytes', v['max-body-bytes'], { integer: true, min: 1024 }) ?? DEFAULT_BODY_LIMIT;
    const limitImagesPerPrompt = parseImageLimit(v['limit-mm-per-prompt']);
    const threadFlag = v['runner-thread'] ?? 'auto';
    if (!['auto', 'on', 'off'].includes(threadFlag)) throw new CliError(`--runner-thread must be auto, on or off (got ${threadFlag})`);
    const runnerThread = threadFlag === 'auto' ? undefined : threadFlag === 'on';
    // vLLM's flags for Mistral tool calling: the mistral parser is the only one (and the default).
    const parser = v['tool-call-parser'];
    if (parser !== undefined && parser !== 'mistral') throw new CliError(`--tool-call-parser: only 'mistral' is supported (got '${parser}')`);
    if (v['enable-auto-tool-choice'] && parser === undefined) throw new CliError('--enable-auto-tool-choice needs --tool-call-parser mistral (as vLLM)');
    const mode = v['tokenizer-mode'];
    if (mode !== undefined && mode !== 'mistral' && mode !== 'auto') throw new CliError(`--tokenizer-mode: only 'mistral' (or 'auto') is supported (got '${mode}')`);
    const enableAutoToolChoice = v['enable-auto-tool-choice'] === true;
    const security = securityOptions(v);
    let llm: LLM;
    try {
      llm = await LLM.create({
        model,
        tokenizer: v.tokenizer,
        loadFormat,
        quantization,
        device: v.device, // default: cuda when a driver and a GPU are present, else cpu
        servedModelName: v['served-model-name'],
        maxModelLen: parseNumberFlag('max-model-len', v['max-model-len'], { integer: true, min: 2 }),
        maxNumSeqs: parseNumberFlag('max-num-seqs', v['max-num-seqs'], { integer: true, min: 1 }),
        maxNumBatchedTokens: parseNumberFlag('max-num-batched-tokens', v['max-num-batched-tokens'], { integer: true, min: 1 }),
        gpuMemoryUtilization: parseNumberFlag('gpu-memory-utilization', v['gpu-memory-utilization'], { min: 0, minExclusive: true, max: 1 }),
        kvCacheTokens: parseNumberFlag('kv-cache-tokens', v['kv-cache-tokens'], { integer: true, min: 1 }),
        enablePrefixCaching: !v['no-enable-prefix-caching'],
        grammarCompileTimeoutMs: ((t) => (t === undefined ? undefined : t * 1000))(parseNumberFlag('grammar-compile-timeout', v['grammar-compile-timeout'], { min: 0, minExclusive: true })),
        runnerThread,
        enforceEager: v['enforce-eager'] === true,
        speculativeConfig: v['speculative-config'],
        maxLogprobs: parseNumberFlag('max-logprobs', v['max-logprobs'], { integer: true, min: 0 }),
        onProgress: weightLoadProgress(),
      });
      const kv = llm.components.runner.kvCache;
      console.error(`tramontane: ${kvCacheLine(kv.numBlocks * kv.blockSize, kv.bytes ?? 0)}`);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`serve: ${(e as Error).message}`);
    }
    const returnTokensAsTokenIds = v['return-tokens-as-token-ids'] === true;
    const app = createServer(llm, { apiKey, bodyLimit, limitImagesPerPrompt, enableAutoToolChoice, returnTokensAsTokenIds, ...security });
    try {
      await app.listen({ host, port });
    } catch (e) {
      await llm.close();
      throw new CliError(`serve: cannot listen on ${host}:${port}: ${(e as Error).message}`);
    }
    const addr = app.server.address();
    const where = typeof addr === 'object' && addr ? `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
    const kv = llm.engine.blocks;
    console.error(
      `tramontane: serving ${llm.modelName} at ${where}/v1 (max model len ${llm.engine.maxModelLen}, KV cache ${kv.numBlocks} blocks x ${kv.blockSize} tokens${apiKey ? ', API key required' : ''})`,
    );
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    console.error('tramontane: shutting down');
    // A second signal, or a shutdown stuck for 10 s, ends the process at once.
    const force = (): void => {
      console.error('tramontane: forced exit');
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
