// --enable-log-requests: one line when a request reaches the engine (its id, prompt length,
// images, the main sampling params; the prompt text itself only at debug level) and one when
// it ends (output tokens, time to first token, end-to-end time, finish reason), as vLLM logs.
import type { Logger } from 'pino';
import type { EngineInput } from '../engine/engine.js';
import type { RequestOutput } from '../engine/outputs.js';
import type { SamplingParams } from '../engine/samplingParams.js';
import type { EngineTokenizer } from '../engine/tokenizerPort.js';

const ms = (t: number) => Math.round(t * 10) / 10;

export class RequestLogger {
  constructor(
    private readonly log: Logger,
    private readonly tokenizer: EngineTokenizer,
  ) {}

  /** Passes `stream` through, logging its start now and its end when it finishes or stops. */
  wrap(stream: AsyncGenerator<RequestOutput>, requestId: string, input: EngineInput, params: SamplingParams): AsyncGenerator<RequestOutput> {
    const promptTokens = input.promptTokenIds.length;
    this.log.info(
      { component: 'request', reqId: requestId, promptTokens, images: input.images?.length ?? 0, maxTokens: params.maxTokens, temperature: params.temperature, n: params.n },
      'request received',
    );
    if (this.log.isLevelEnabled('debug')) {
      const prompt = input.prompt ?? this.tokenizer.decode(input.promptTokenIds, { skipSpecialTokens: false });
      this.log.debug({ component: 'request', reqId: requestId, prompt }, 'request prompt');
    }
    return this.follow(stream, requestId, promptTokens);
  }

  private async *follow(stream: AsyncGenerator<RequestOutput>, reqId: string, promptTokens: number): AsyncGenerator<RequestOutput> {
    const start = performance.now();
    let firstToken: number | null = null;
    let last: RequestOutput | null = null;
    let failed: unknown = null;
    try {
      for await (const out of stream) {
        if (firstToken === null && out.outputs.some((o) => o.tokenIds.length > 0)) firstToken = performance.now();
        last = out;
        yield out;
      }
    } catch (err) {
      failed = err;
      throw err;
    } finally {
      // Read at the end: with copyOutputs off the lists are live and hold every token by now.
      const outputTokens = last ? last.outputs.reduce((n, o) => n + o.tokenIds.length, 0) : 0;
      const finishReason = failed !== null ? 'error' : (last?.outputs.map((o) => o.finishReason ?? 'abort').join(',') ?? 'abort');
      this.log.info(
        { component: 'request', reqId, promptTokens, outputTokens, ttftMs: firstToken === null ? null : ms(firstToken - start), e2eMs: ms(performance.now() - start), finishReason },
        'request finished',
      );
    }
  }
}
