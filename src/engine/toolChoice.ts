// Tool calling as vLLM serves Mistral models (`--tool-call-parser mistral`):
//   tool_choice "none"      the tools are in the prompt; the output is plain content.
//   tool_choice "auto"      free generation; a [TOOL_CALLS] token switches to the JSON list of
//                           calls that follows (the text before it is the content).
//   "required" / named      the prompt ends with [TOOL_CALLS] (the model's trained format) and
//                           the output is constrained to a JSON list of calls whose `name` is a
//                           tool's and whose `arguments` validate against that tool's parameters.
import { randomInt } from 'node:crypto';
import type { ChatToolDefinition } from '../tokenizer/chatMessages.js';
import { InvalidRequestError } from './errors.js';
import type { CompletionOutput } from './outputs.js';
import { parseToolCalls, type ParsedToolCall } from './toolCallParser.js';
import type { EngineTokenizer } from './tokenizerPort.js';

/** OpenAI's tool_choice: none, auto, required, or one named function. */
export type ToolChoice = 'none' | 'auto' | 'required' | { readonly type: 'function'; readonly function: { readonly name: string } };

/** A call in an output, as OpenAI's `tool_calls[]` (camelCase in the library). */
export interface ToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: ParsedToolCall;
}

/** How a request's tools are served: whether calls are parsed, and the JSON schema that constrains a forced call. */
export interface ToolPlan {
  /** none: no parsing; auto: parse after [TOOL_CALLS]; forced: the whole output is the list. */
  readonly mode: 'none' | 'auto' | 'forced';
  /** forced: the JSON schema of the list (for structuredOutputs.json). */
  readonly schema: object | null;
  /** forced with a named function: finish_reason stays "stop" (vLLM); else "tool_calls". */
  readonly named: boolean;
}

/** A tool's parameters schema, or any JSON object when it has none. */
function parametersSchema(t: ChatToolDefinition): unknown {
  const p = t.parameters;
  if (p === undefined || p === null || (typeof p === 'object' && Object.keys(p).length === 0)) return { type: 'object' };
  return p;
}

/** The list of calls: [{"name": <const>, "arguments": <the tool's parameters>}, ...]. */
export function toolCallsSchema(tools: readonly ChatToolDefinition[], parallel: boolean): object {
  const items = tools.map((t) => ({
    type: 'object',
    properties: { name: { type: 'string', const: t.name }, arguments: parametersSchema(t) },
    required: ['name', 'arguments'],
    additionalProperties: false,
  }));
  return { type: 'array', items: items.length === 1 ? items[0] : { anyOf: items }, minItems: 1, ...(parallel ? {} : { maxItems: 1 }) };
}

/** Resolves tool_choice against the tools, as vLLM does (default: "auto" with tools, else "none"). */
export function planTools(
  tools: readonly ChatToolDefinition[] | null | undefined,
  toolChoice: ToolChoice | null | undefined,
  options: { parallelToolCalls?: boolean | null; enableAutoToolChoice?: boolean; field?: string } = {},
): ToolPlan {
  const field = options.field ?? 'toolChoice';
  const list = tools ?? [];
  const choice = toolChoice ?? (list.length > 0 ? 'auto' : 'none');
  const parallel = options.parallelToolCalls !== false;
  if (choice === 'none') return { mode: 'none', schema: null, named: false };
  if (list.length === 0) throw new InvalidRequestError(`tool_choice ${JSON.stringify(choice)} needs tools`, field);
  if (choice === 'auto') {
    if (options.enableAutoToolChoice === false) {
      throw new InvalidRequestError('"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', field);
    }
    return { mode: 'auto', schema: null, named: false };
  }
  if (choice === 'required') return { mode: 'forced', schema: toolCallsSchema(list, parallel), named: false };
  if (typeof choice === 'object' && choice !== null && choice.type === 'function' && typeof choice.function?.name === 'string') {
    const tool = list.find((t) => t.name === choice.function.name);
    if (!tool) throw new InvalidRequestError(`tool_choice names the function ${JSON.stringify(choice.function.name)}, which is not among the tools`, field);
    return { mode: 'forced', schema: toolCallsSchema([tool], false), named: true };
  }
  throw new InvalidRequestError('tool_choice must be "none", "auto", "required" or {"type": "function", "function": {"name": ...}}', field);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh tool-call id: 9 characters [A-Za-z0-9], as mistral_common v7 requires. */
export function newToolCallId(): string {
  let id = '';
  for (let i = 0; i < 9; i++) id += ALNUM[randomInt(ALNUM.length)];
  return id;
}

export interface ExtractedToolCalls {
  /** null when tool calls were made and no text came before them. */
  readonly content: string | null;
  readonly toolCalls: readonly ToolCall[];
  /** "tool_calls" when calls were made (except a named function: "stop"), else the output's own. */
  readonly finishReason: string | null;
}

/** The content and tool calls of a finished output (vLLM's non-streaming extraction). */
export function extractToolCalls(o: CompletionOutput, plan: ToolPlan, tokenizer: EngineTokenizer, toolCallsTokenId: number | null, skipSpecialTokens: boolean): ExtractedToolCalls {
  const plain = { content: o.text, toolCalls: [], finishReason: o.finishReason };
  if (plan.mode === 'none') return plain;
  let content = '';
  let tail = o.text;
  if (plan.mode === 'auto') {
    const k = toolCallsTokenId === null ? -1 : o.tokenIds.indexOf(toolCallsTokenId);
    if (k < 0) return plain;
    content = tokenizer.decode(o.tokenIds.slice(0, k), { skipSpecialTokens });
    tail = o.text.startsWith(content) ? o.text.slice(content.length) : tokenizer.decode(o.tokenIds.slice(k + 1), { skipSpecialTokens });
  }
  const calls = parseToolCalls(tail);
  if (calls === null || calls.length === 0) return plain;
  const finished = o.finishReason === 'stop' || o.finishReason === null ? (plan.named ? o.finishReason : 'tool_calls') : o.finishReason;
  return {
    content: content.length > 0 ? content : null,
    toolCalls: calls.map((c) => ({ id: newToolCallId(), type: 'function', function: c })),
    finishReason: o.finishReason === null ? null : finished,
  };
}
