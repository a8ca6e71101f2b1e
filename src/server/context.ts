// What every route handler shares: the LLM, the served name, limits.
import type { Logger } from 'pino';
import { createHash } from 'node:crypto';
import { VERSION } from '../version.js';
import type { LLM } from '../engine/llm.js';
import { PixelSemaphore, RequestImageBudget, type ImageEncodeOptions, type MediaPolicy } from '../image/index.js';
import { ApiError } from './errors.js';
import type { CorsSettings, HttpLimits } from './httpGuards.js';
import type { RequestLogger } from './requestLog.js';
import { tokenNames, type TokenNames } from './logprobsFormat.js';
import { defaultRequestLimits, type RequestLimits } from './requestBounds.js';
import type { SamplingLimits } from './samplingMapping.js';

/** OpenAI's `system_fingerprint`: `fp_` and 10 hex digits of a hash of what shapes the outputs
 *  (tramontane's version, the model, its context length and vocabulary); the same for every
 *  response of one server, different when any of those changes. */
export function systemFingerprint(llm: LLM): string {
  const what = [VERSION, llm.modelName, llm.engine.maxModelLen, llm.components.runner.limits.vocabSize].join('|');
  return `fp_${createHash('sha256').update(what).digest('hex').slice(0, 10)}`;
}

export interface ServerOptions {
  readonly servedModelName?: string;
  /** When set, every route but /health needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string | null;
  /** Largest request body in bytes (413 above). */
  readonly bodyLimit?: number;
  /** Most images one request may carry. */
  readonly limitImagesPerPrompt?: number;
  /** vLLM's --enable-auto-tool-choice: tool_choice "auto" (the default with tools) is served. */
  readonly enableAutoToolChoice?: boolean;
  /** Sequences one request may start (prompts x n); 400 above. */
  readonly maxRequestFanout?: number;
  /** Image URLs may be file:// URLs inside this directory (vLLM's --allowed-local-media-path). */
  readonly allowedLocalMediaPath?: string | null;
  /** Host names image URLs may name (vLLM's --allowed-media-domains); null: any public host. */
  readonly allowedMediaDomains?: readonly string[] | null;
  /** Let image fetches reach loopback, private and link-local addresses (default false). */
  readonly allowPrivateMediaDestinations?: boolean;
  /** Decoded pixels of one request's images together. */
  readonly maxImagePixelsPerRequest?: number;
  /** Decoded pixels in flight over all requests (a semaphore: decodes wait their turn). */
  readonly maxDecodePixels?: number;
  /** Timeouts and connection cap of the HTTP server (defaults: DEFAULT_HTTP_LIMITS). */
  readonly http?: Partial<HttpLimits>;
  /** CORS (null or absent: none). */
  readonly cors?: CorsSettings | null;
  /** The chat page at `/` (default true; `serve --disable-chat-page` turns it off). */
  readonly chatPage?: boolean;
  /** A pino logger for the server's log (the CLI's, src/cli/logging.ts); when given, logLevel
   *  and logStream are not used. */
  readonly logger?: Logger;
  /** Without `logger`: pino level of the server's log (default 'warn'; 'silent' for none). */
  readonly logLevel?: string;
  /** Without `logger`: where the log goes (default stdout). */
  readonly logStream?: NodeJS.WritableStream;
  /** vLLM's --enable-log-requests: a log line as each request starts and ends (src/server/requestLog.ts). */
  readonly logRequests?: boolean;
  /** Seconds between engine stats lines at info level while busy (src/server/statsLogger.ts); absent or null: none. */
  readonly logStatsIntervalSeconds?: number | null;
  /** vLLM's --return-tokens-as-token-ids: logprob tokens as `token_id:N` instead of their text. */
  readonly returnTokensAsTokenIds?: boolean;
}

export const DEFAULT_MAX_REQUEST_FANOUT = 256;
/** 8192 x 8192: a request's images together. */
export const DEFAULT_MAX_IMAGE_PIXELS_PER_REQUEST = 1 << 26;
/** Twice that over the server: about 1.3 GB of decode buffers at most. */
export const DEFAULT_MAX_DECODE_PIXELS = 1 << 27;

export class ServerContext {
  readonly servedModelName: string;
  readonly apiKey: string | null;
  readonly limitImagesPerPrompt: number;
  readonly enableAutoToolChoice: boolean;
  readonly limits: RequestLimits;
  readonly mediaPolicy: MediaPolicy;
  readonly maxImagePixelsPerRequest: number;
  readonly decodePixels: PixelSemaphore;
  /** Set by createServer once the log exists; null without --enable-log-requests. */
  requestLog: RequestLogger | null = null;
  readonly systemFingerprint: string;
  readonly samplingLimits: SamplingLimits;
  readonly tokenNames: TokenNames;

  constructor(
    readonly llm: LLM,
    options: ServerOptions,
  ) {
    this.servedModelName = options.servedModelName ?? llm.modelName;
    this.apiKey = options.apiKey ?? null;
    this.limitImagesPerPrompt = options.limitImagesPerPrompt ?? 16;
    this.enableAutoToolChoice = options.enableAutoToolChoice ?? false;
    this.limits = defaultRequestLimits(llm.engine.maxModelLen, options.maxRequestFanout ?? DEFAULT_MAX_REQUEST_FANOUT);
    this.mediaPolicy = {
      localFiles: options.allowedLocalMediaPath ?? null,
      allowedDomains: options.allowedMediaDomains ?? null,
      allowPrivateDestinations: options.allowPrivateMediaDestinations ?? false,
    };
    this.decodePixels = new PixelSemaphore(options.maxDecodePixels ?? DEFAULT_MAX_DECODE_PIXELS);
    this.systemFingerprint = systemFingerprint(llm);
    this.samplingLimits = { vocabSize: llm.components.runner.limits.vocabSize, maxLogprobs: llm.maxLogprobs };
    this.tokenNames = tokenNames(options.returnTokensAsTokenIds === true, (id) => llm.components.tokenizer.tokenText(id));
    this.maxImagePixelsPerRequest = Math.min(options.maxImagePixelsPerRequest ?? DEFAULT_MAX_IMAGE_PIXELS_PER_REQUEST, this.decodePixels.capacity);
  }

  /** How one request loads its images: the policy, its budget, off the event loop. */
  imageOptions(signal?: AbortSignal): ImageEncodeOptions {
    const budget = new RequestImageBudget(this.llm.engine.maxModelLen, this.maxImagePixelsPerRequest, this.decodePixels);
    return { policy: this.mediaPolicy, signal, budget, offThread: true };
  }

  checkModel(model: string | null | undefined): void {
    if (model != null && model !== this.servedModelName) {
      throw new ApiError(404, `The model \`${model}\` does not exist.`, 'model');
    }
  }
}
