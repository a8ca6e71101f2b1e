// llm.chat(): vLLM's LLM.chat with tool calling. Messages in OpenAI's shape (the field names of
// the Chat Completions API, so a conversation can be passed on as it is), tools and tool_choice
// resolved as the server does (toolChoice.ts), outputs as vLLM's RequestOutput plus, per choice,
// the parsed `content` and `toolCalls`.
import type { ChatToolDefinition } from '../tokenizer/chatMessages.js';
import { truncateToolCallId } from '../tokenizer/chatMessages.js';
import { InvalidRequestError } from './errors.js';
import type { ChatContentPart, ChatTurn, PrepareChatOptions } from './chatPort.js';
import type { EngineInput } from './engine.js';
import type { LLMComponents } from './loadModel.js';
import type { CompletionOutput, RequestOutput } from './outputs.js';
import type { ImageSource } from './promptInput.js';
import type { SamplingParams, SamplingParamsInput } from './samplingParams.js';
import { extractToolCalls, planTools, type ToolCall, type ToolChoice } from './toolChoice.js';

/** A part of a user message in OpenAI's shape: text, an image URL, or image bytes. */
export type OpenAIContentPart =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image_url'; readonly image_url: string | { readonly url: string } }
  /** Image bytes (or a path/URL string), as vLLM's offline `image` parts. */
  | { readonly type: 'image'; readonly image: ImageSource };

/** A tool call in OpenAI's shape: id, type 'function', the function's name and JSON arguments. */
export interface OpenAIToolCall {
  readonly id: string;
  readonly type?: 'function';
  readonly function: { readonly name: string; readonly arguments: string | Readonly<Record<string, unknown>> };
}

/** A chat message in OpenAI's shape (system/developer, user, assistant with tool calls, tool result). */
export type OpenAIChatMessage =
  | { readonly role: 'system' | 'developer'; readonly content: string | readonly OpenAIContentPart[] }
  | { readonly role: 'user'; readonly content: string | readonly OpenAIContentPart[] }
  | { readonly role: 'assistant'; readonly content?: string | readonly OpenAIContentPart[] | null; readonly tool_calls?: readonly OpenAIToolCall[] | null; readonly prefix?: boolean }
  | { readonly role: 'tool'; readonly content: string | readonly OpenAIContentPart[]; readonly tool_call_id: string; readonly name?: string };

/** OpenAI's `tools[]` entry. */
export interface OpenAITool {
  readonly type: 'function';
  readonly function: { readonly name: string; readonly description?: string | null; readonly parameters?: Readonly<Record<string, unknown>> | null };
}

/** Options of `llm.chat`: tools, tool choice, parallel tool calls, continuing the final message. */
export interface ChatOptions {
  readonly tools?: readonly OpenAITool[] | null;
  /** Default: "auto" with tools, else "none". */
  readonly toolChoice?: ToolChoice | null;
  /** false: at most one call (constrained with required / a named function). Default true. */
  readonly parallelToolCalls?: boolean | null;
  /** The last message is an assistant message to continue (no </s> after it). */
  readonly continueFinalMessage?: boolean;
}

/** One choice of a chat result: the completion, its text before any tool call, and the parsed tool calls. */
export interface ChatCompletionOutput extends CompletionOutput {
  /** The text before any tool call; null when the choice is only tool calls. */
  readonly content: string | null;
  readonly toolCalls: readonly ToolCall[];
}

/** One conversation's result from `llm.chat`: a RequestOutput whose outputs carry content and parsed tool calls. */
export interface ChatRequestOutput extends RequestOutput {
  readonly outputs: readonly ChatCompletionOutput[];
}

/** What llm.chat needs of the LLM (an interface, so this file does not import llm.ts). */
export interface ChatHost {
  readonly components: LLMComponents;
  samplingParams(input?: SamplingParamsInput): SamplingParams;
  prepareChat(turns: readonly ChatTurn[], options: PrepareChatOptions): Promise<EngineInput>;
  streamPrepared(input: EngineInput, params: SamplingParams): AsyncGenerator<RequestOutput>;
}

/** One output per conversation, in order (vLLM returns a list for one conversation too). */
export type ChatOutput = ChatRequestOutput[];

function bad(field: string, message: string): never {
  throw new InvalidRequestError(`${field} ${message}`, field);
}

/** OpenAI tools -> the tokenizer's tool definitions. */
export function toolDefinitions(tools: readonly OpenAITool[] | null | undefined): ChatToolDefinition[] {
  if (tools === null || tools === undefined) return [];
  if (!Array.isArray(tools)) bad('tools', 'must be a list');
  return tools.map((t, i) => {
    if (typeof t !== 'object' || t === null || t.type !== 'function' || typeof t.function !== 'object' || t.function === null) {
      bad(`tools[${i}]`, 'must be {"type": "function", "function": {"name", "description", "parameters"}}');
    }
    return { name: t.function.name, description: t.function.description ?? '', parameters: t.function.parameters ?? {} };
  });
}

/** OpenAI tool calls -> the tokenizer's, ids cut to their last 9 characters as vLLM does. */
export function toChatToolCalls(calls: readonly OpenAIToolCall[], at: string) {
  return calls.map((c, j) => {
    if (typeof c !== 'object' || c === null || typeof c.function !== 'object' || c.function === null) bad(`${at}.tool_calls[${j}]`, 'must be {"id", "type": "function", "function": {"name", "arguments"}}');
    if (typeof c.id !== 'string') bad(`${at}.tool_calls[${j}].id`, 'must be a string');
    const args = c.function.arguments;
    return { id: truncateToolCallId(c.id), name: c.function.name, arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}) };
  });
}

async function toTurns(llm: ChatHost, messages: readonly OpenAIChatMessage[]): Promise<ChatTurn[]> {
  if (!Array.isArray(messages)) bad('messages', 'must be a list of messages');
  const images = llm.components.images;
  return Promise.all(
    messages.map(async (m, i): Promise<ChatTurn> => {
      const at = `messages[${i}]`;
      if (typeof m !== 'object' || m === null) bad(at, 'must be an object');
      const role = m.role === 'developer' ? 'system' : m.role;
      let content: ChatTurn['content'] = (m.content ?? null) as string | null;
      if (Array.isArray(m.content)) {
        content = await Promise.all(
          (m.content as readonly OpenAIContentPart[]).map(async (p, j): Promise<ChatContentPart> => {
            if (p?.type === 'text') return { type: 'text', text: p.text };
            if (p?.type !== 'image_url' && p?.type !== 'image') bad(`${at}.content[${j}]`, `has unknown type ${JSON.stringify((p as { type?: unknown })?.type)}`);
            if (!images) bad(`${at}.content[${j}]`, 'is an image, and this model takes no images');
            const source = p.type === 'image' ? p.image : typeof p.image_url === 'string' ? p.image_url : p.image_url?.url;
            return { type: 'image', image: await images.encode(source) };
          }),
        );
      }
      const turn: { -readonly [K in keyof ChatTurn]: ChatTurn[K] } = { role: role as ChatTurn['role'], content };
      if (m.role === 'assistant') {
        if (m.tool_calls) turn.toolCalls = toChatToolCalls(m.tool_calls, at);
        if (m.prefix !== undefined) turn.prefix = m.prefix;
      } else if (m.role === 'tool') {
        turn.toolCallId = typeof m.tool_call_id === 'string' ? truncateToolCallId(m.tool_call_id) : m.tool_call_id;
        if (m.name !== undefined) turn.name = m.name;
      }
      return turn;
    }),
  );
}

export async function runChat(
  llm: ChatHost,
  messages: readonly OpenAIChatMessage[] | readonly (readonly OpenAIChatMessage[])[],
  samplingParams: SamplingParamsInput = {},
  options: ChatOptions = {},
): Promise<ChatOutput> {
  const conversations = (Array.isArray(messages[0]) ? messages : [messages]) as readonly (readonly OpenAIChatMessage[])[];
  const tools = toolDefinitions(options.tools);
  const plan = planTools(tools, options.toolChoice, { parallelToolCalls: options.parallelToolCalls });
  if (plan.schema && samplingParams.structuredOutputs) bad('structuredOutputs', 'cannot be combined with a forced tool choice (required or a named function)');
  const params = llm.samplingParams(plan.schema ? { ...samplingParams, structuredOutputs: { json: plan.schema } } : samplingParams);
  const inputs = await Promise.all(
    conversations.map(async (conv) =>
      llm.prepareChat(await toTurns(llm, conv), { continueFinalMessage: options.continueFinalMessage === true, tools, appendToolCallsToken: plan.mode === 'forced' }),
    ),
  );
  const tokenizer = llm.components.tokenizer;
  const toolCallsId = llm.components.toolCallsTokenId ?? null;
  const results = inputs.map(async (input) => {
    let last: RequestOutput | null = null;
    for await (const out of llm.streamPrepared(input, params)) last = out;
    if (!last) throw new Error('the request produced no output');
    const outputs = last.outputs.map((o): ChatCompletionOutput => {
      const x = extractToolCalls(o, plan, tokenizer, toolCallsId, params.skipSpecialTokens);
      return { ...o, content: x.content, toolCalls: x.toolCalls };
    });
    return { ...last, outputs };
  });
  return Promise.all(results);
}
