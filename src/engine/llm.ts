// The offline API, as vLLM's `LLM`: `await LLM.create({ model, device, ... })`, then
// `await llm.generate(prompts, samplingParams)` -> RequestOutputs in prompt order, or
// `llm.generateStream(prompt, params)` -> partial outputs as they grow. All requests, from
// every caller, share one Engine whose background loop batches them.
import { Engine, type EngineInput, type EngineOptions } from './engine.js';
import { InvalidRequestError } from './errors.js';
import type { RequestOutput } from './outputs.js';
import { preparePrompt, type ImageSource, type PreparedImage, type PromptInput } from './promptInput.js';
import { MAX_LOGPROBS, resolveSamplingParams, type SamplingParams, type SamplingParamsInput } from './samplingParams.js';
import type { ChatTurn, PrepareChatOptions } from './chatPort.js';
import { ChatFormatError } from '../tokenizer/chatMessages.js';
import { runChat, type ChatOptions, type ChatOutput, type OpenAIChatMessage } from './llmChat.js';
import type { EngineTokenizer } from './tokenizerPort.js';
import { loadComponents, type LLMComponents, type LoadOptions } from './loadModel.js';

/** mistral_common's content chunks, as the model card's example builds them. */
export type UserContentChunk =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image_url'; readonly imageUrl: string | { readonly url: string } }
  | { readonly type: 'image'; readonly image: ImageSource };

/** What `llm.getTokenizer()` returns: the tokenizer plus mistral_common's request encoding. */
export interface LLMTokenizer extends EngineTokenizer {
  /** Base-model prompt: the chunks in order, images as their token spans; no BOS, no [INST].
   *  Feed the result to generate() as `{ promptTokenIds: tokens, multiModalData: { image: images } }`. */
  encodeUserContent(chunks: readonly UserContentChunk[]): Promise<{ tokens: number[]; images: PreparedImage[] }>;
}

/** Per-request options of `generateStream` / `streamPrepared`: a request id and an abort signal. */
export interface GenerateOptions {
  /** Ids for the requests (default: generated). */
  readonly requestId?: string;
  /** Aborts the request when fired. */
  readonly signal?: AbortSignal;
  /** false: partial outputs share the live token and logprob lists (see RequestState.snapshot). */
  readonly copyOutputs?: boolean;
}

export interface LLMOptions extends LoadOptions {
  /** Reuse cached prompt blocks across requests (default true). */
  readonly enablePrefixCaching?: boolean;
  /** Longest a structured-outputs grammar may take to compile (refused beyond); default 30 s. */
  readonly grammarCompileTimeoutMs?: number;
  /** The engine's seed (vLLM's): requests without a seed draw theirs from it in arrival order. */
  readonly seed?: number;
  /** Most logprobs (and prompt logprobs) a request may ask for: vLLM's max_logprobs, default 20;
   *  at most the vocabulary size. */
  readonly maxLogprobs?: number;
}

/** vLLM's offline `LLM` in TypeScript: loads a model on a device and generates (batched, streamed, chat); every caller shares one engine. Create with {@link LLM.create}; end with `close()`. */
export class LLM {
  readonly engine: Engine;
  /** Most logprobs a request may ask for (LLMOptions.maxLogprobs). */
  readonly maxLogprobs: number;
  private readonly tokenizerView: LLMTokenizer;
  private nextRequest = 0;

  constructor(
    readonly components: LLMComponents,
    engineOptions: EngineOptions = {},
    maxLogprobs: number = MAX_LOGPROBS,
  ) {
    if (!Number.isInteger(maxLogprobs) || maxLogprobs < 0 || maxLogprobs > components.runner.limits.vocabSize) {
      throw new InvalidRequestError(`maxLogprobs must be an integer in [0, ${components.runner.limits.vocabSize}] (the vocabulary), got ${maxLogprobs}`, 'maxLogprobs');
    }
    this.maxLogprobs = maxLogprobs;
    this.engine = new Engine(components.runner, components.tokenizer, engineOptions);
    this.tokenizerView = makeLLMTokenizer(components);
  }

  /** Loads a model directory (default: the tiny model shipped in the package) on a device. */
  static async create(options: LLMOptions = {}): Promise<LLM> {
    const components = await loadComponents(options);
    return new LLM(components, {
      maxModelLen: components.runner.limits.maxModelLen,
      maxNumSeqs: components.defaults.maxNumSeqs,
      maxNumBatchedTokens: components.defaults.maxNumBatchedTokens,
      enablePrefixCaching: options.enablePrefixCaching,
      grammarCompileTimeoutMs: options.grammarCompileTimeoutMs,
      seed: options.seed,
      speculator: components.speculator ?? undefined,
    }, options.maxLogprobs);
  }

  get modelName(): string {
    return this.components.modelName;
  }

  /** The tokenizer, with the base-model image prompt (encodeUserContent). */
  getTokenizer(): LLMTokenizer {
    return this.tokenizerView;
  }

  /** Fills defaults and validates sampling params against this model. */
  samplingParams(input: SamplingParamsInput = {}): SamplingParams {
    return resolveSamplingParams(input, this.components.runner.limits.vocabSize, this.maxLogprobs);
  }

  /** Tokenises a prompt and loads its images: what add() takes. */
  prepare(prompt: PromptInput): Promise<EngineInput> {
    const c = this.components;
    return preparePrompt(prompt, c.tokenizer, c.imageTokenIds, c.images);
  }

  /** Encodes a chat (images already loaded) into an engine input; a chat mistral_common would
   *  refuse is an InvalidRequestError naming the rule. */
  async prepareChat(turns: readonly ChatTurn[], options: boolean | PrepareChatOptions = {}): Promise<EngineInput> {
    const o: PrepareChatOptions = typeof options === 'boolean' ? { continueFinalMessage: options } : options;
    const encode = this.components.encodeChat;
    if (!encode) throw new InvalidRequestError('this model has no chat template', 'messages');
    let encoded;
    try {
      encoded = encode(turns, { continueFinalMessage: o.continueFinalMessage === true, tools: o.tools ?? null });
    } catch (err) {
      if (err instanceof ChatFormatError) throw new InvalidRequestError(err.message, 'messages');
      throw err;
    }
    const { tokens, images } = encoded;
    if (o.appendToolCallsToken) {
      const id = this.components.toolCallsTokenId;
      if (id === null || id === undefined) throw new InvalidRequestError('this model has no [TOOL_CALLS] token', 'tools');
      tokens.push(id);
    }
    return this.prepare({ promptTokenIds: tokens, multiModalData: { image: images } });
  }

  /** vLLM's LLM.chat: OpenAI-shaped messages (text, image URLs or bytes, tool calls, tool
   *  results) with optional tools; one output per conversation with its parsed tool calls. */
  chat(messages: readonly OpenAIChatMessage[] | readonly (readonly OpenAIChatMessage[])[], samplingParams?: SamplingParamsInput, options: ChatOptions = {}): Promise<ChatOutput> {
    return runChat(this, messages, samplingParams, options);
  }

  /** Generates for every prompt (all batched together); outputs in prompt order. */
  async generate(
    prompts: PromptInput | readonly PromptInput[],
    samplingParams?: SamplingParamsInput | readonly SamplingParamsInput[],
  ): Promise<RequestOutput[]> {
    const list: readonly PromptInput[] = Array.isArray(prompts) ? prompts : [prompts as PromptInput];
    if (Array.isArray(samplingParams) && samplingParams.length !== list.length) {
      throw new InvalidRequestError(`${list.length} prompts but ${samplingParams.length} sampling params`, 'samplingParams');
    }
    const params = list.map((_, i) => this.samplingParams(Array.isArray(samplingParams) ? samplingParams[i] : (samplingParams as SamplingParamsInput | undefined)));
    const inputs = await Promise.all(list.map((p) => this.prepare(p)));
    const states: ReturnType<Engine['add']>[] = [];
    try {
      for (let i = 0; i < inputs.length; i++) states.push(this.engine.add(inputs[i], params[i], this.newRequestId()));
    } catch (err) {
      for (const s of states) this.engine.abort(s.id);
      throw err;
    }
    return Promise.all(states.map((s) => this.engine.result(s)));
  }

  /** Yields the request's output as it grows (text only in whole characters, never part of a
   *  stop string), the last one finished. Leaving the loop early aborts the request. */
  async *generateStream(prompt: PromptInput, samplingParams?: SamplingParamsInput, options: GenerateOptions = {}): AsyncGenerator<RequestOutput> {
    const params = this.samplingParams(samplingParams);
    const input = await this.prepare(prompt);
    yield* this.streamPrepared(input, params, options);
  }

  /** As generateStream, for an input already prepared (the server validates first). The
   *  request is queued before this returns, so a refusal throws here. */
  streamPrepared(input: EngineInput, params: SamplingParams, options: GenerateOptions = {}): AsyncGenerator<RequestOutput> {
    const { signal } = options;
    const state = this.engine.add(input, params, options.requestId ?? this.newRequestId());
    const engine = this.engine;
    const onAbort = (): void => engine.abort(state.id);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    return (async function* () {
      try {
        yield* state.stream(options.copyOutputs ?? true);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        engine.abort(state.id); // no-op when finished
      }
    })();
  }

  /** Aborts a request by id: its output ends with finish reason 'abort' and its KV blocks are freed. */
  abort(requestId: string): void {
    this.engine.abort(requestId);
  }

  /** Stops the engine and frees the model and its backend; pending requests are aborted. */
  async close(): Promise<void> {
    await this.engine.close();
  }

  private newRequestId(): string {
    return `llm-${this.nextRequest++}`;
  }
}

function makeLLMTokenizer(c: LLMComponents): LLMTokenizer {
  const t = c.tokenizer;
  return {
    get bosId() {
      return t.bosId;
    },
    get eosId() {
      return t.eosId;
    },
    get vocabSize() {
      return t.vocabSize;
    },
    encode: (text, options) => t.encode(text, options),
    decode: (ids, options) => t.decode(ids, options),
    tokenText: (id) => t.tokenText(id),
    newDetokenizer: (options) => t.newDetokenizer(options),
    async encodeUserContent(chunks) {
      const tokens: number[] = [];
      const images: PreparedImage[] = [];
      for (const [i, chunk] of chunks.entries()) {
        if (chunk.type === 'text') {
          for (const id of t.encode(chunk.text, { bos: false, eos: false })) tokens.push(id);
          continue;
        }
        if (!c.images) throw new InvalidRequestError(`chunk ${i}: this model takes no images`, 'image');
        const source = chunk.type === 'image' ? chunk.image : typeof chunk.imageUrl === 'string' ? chunk.imageUrl : chunk.imageUrl.url;
        const img = await c.images.encode(source);
        for (const id of img.tokens) tokens.push(id);
        images.push(img);
      }
      return { tokens, images };
    },
  };
}
