// Streaming a chat choice with tool calls as vLLM's mistral parser does: content deltas until the
// [TOOL_CALLS] token (detected by id: the detokenizer drops special tokens), then per call one
// delta {index, id, type: "function", function: {name, arguments: ""}} once its name is complete,
// then {index, function: {arguments}} fragments. Accumulated, the deltas give the message the
// non-streaming response gives (same boundary rule, same parser).
import type { EngineTokenizer } from '../engine/tokenizerPort.js';
import { ToolCallStreamParser } from '../engine/toolCallParser.js';
import { newToolCallId, type ToolPlan } from '../engine/toolChoice.js';
import type { ChoiceDelta } from './generation.js';

export interface ToolChoiceDelta {
  /** The `delta` object of the chunk ({} when nothing new). */
  readonly delta: Record<string, unknown>;
  readonly finishReason: string | null;
}

export class ChoiceToolStream {
  private readonly tokens: number[] = [];
  private text = '';
  private sentContent = 0;
  /** Characters of `text` that are content; null until [TOOL_CALLS] is seen (auto mode). */
  private boundary: number | null;
  private fed = 0;
  private readonly parser = new ToolCallStreamParser();
  private announced = 0;
  /** The calls' JSON failed to parse before any call was announced: the rest is content. */
  private plain: boolean;

  constructor(
    private readonly plan: ToolPlan,
    private readonly tokenizer: EngineTokenizer,
    private readonly toolCallsId: number | null,
    private readonly skipSpecialTokens: boolean,
  ) {
    this.boundary = plan.mode === 'forced' ? 0 : null;
    this.plain = plan.mode === 'none';
  }

  next(d: ChoiceDelta): ToolChoiceDelta {
    for (const id of d.tokenIds) this.tokens.push(id);
    this.text += d.text;
    const delta: Record<string, unknown> = {};
    const final = d.finishReason !== null;
    if (this.boundary === null && !this.plain) {
      const k = this.toolCallsId === null ? -1 : this.tokens.indexOf(this.toolCallsId);
      if (k >= 0) {
        const content = this.tokenizer.decode(this.tokens.slice(0, k), { skipSpecialTokens: this.skipSpecialTokens });
        this.boundary = this.text.startsWith(content) ? content.length : this.sentContent;
      }
    }
    const contentEnd = this.plain || this.boundary === null ? this.text.length : this.boundary;
    if (contentEnd > this.sentContent) {
      delta.content = this.text.slice(this.sentContent, contentEnd);
      this.sentContent = contentEnd;
    }
    if (!this.plain && this.boundary !== null) {
      const tail = this.text.slice(this.boundary + this.fed);
      this.fed += tail.length;
      const events = this.parser.push(tail, final);
      const calls: Record<string, unknown>[] = [];
      for (const e of events) {
        if (e.kind === 'name') {
          this.announced++;
          calls.push({ index: e.index, id: newToolCallId(), type: 'function', function: { name: e.name, arguments: '' } });
        } else {
          const same = calls.find((c) => c.index === e.index && typeof c.function === 'object');
          if (same) (same.function as { arguments: string }).arguments += e.delta;
          else calls.push({ index: e.index, function: { arguments: e.delta } });
        }
      }
      if (calls.length > 0) delta.tool_calls = calls;
      const noCalls = this.announced === 0 && (this.parser.error !== null || (final && !(this.parser.complete && this.parser.result.length > 0)));
      if (noCalls) {
        // Not a tool-call list after all: what came after [TOOL_CALLS] is content, as non-streaming.
        this.plain = true;
        if (this.text.length > this.sentContent) delta.content = `${(delta.content as string | undefined) ?? ''}${this.text.slice(this.sentContent)}`;
        this.sentContent = this.text.length;
      }
    }
    let finishReason = d.finishReason;
    if (final && !this.plain && this.parser.complete && this.parser.result.length > 0 && (finishReason === 'stop' || finishReason === null)) {
      finishReason = this.plan.named ? finishReason : 'tool_calls';
    }
    return { delta, finishReason };
  }
}
