// The v7 instruct encoding of a chat, as mistral_common's InstructRequestNormalizerV7 followed by
// InstructTokenizerV7.encode_instruct (mistral_common 1.12):
//   <s> then, per (normalised) message:
//   system     [SYSTEM_PROMPT] text [/SYSTEM_PROMPT]      (each system message on its own, in place)
//   user       ([AVAILABLE_TOOLS] tools-json [/AVAILABLE_TOOLS] before the LAST user message, when
//              tools are given) [INST] content [/INST]   (text and image chunks)
//   assistant  text ([TOOL_CALLS] calls-json)</s>        (text: trailing spaces stripped; no </s>
//              when prefix or continued)
//   tool       [TOOL_RESULTS] id [TOOL_CONTENT] content [/TOOL_RESULTS]
// JSON is Python's json.dumps(..., ensure_ascii=False) (pyJson.ts): tools are
// [{"type": "function", "function": {"name", "description", "parameters"}}]; calls are
// [{"name", "arguments": <arguments parsed as JSON, or the text when not JSON>, "id"}].
// Normalisation: consecutive user messages merge into one, as do consecutive assistant messages
// (their tool calls concatenate, prefix if any has it); text joins with "\n\n". In a user
// content whose last chunk is an image and every chunk before it text, the image moves first.
import { ChatFormatError, type ChatEncodeOptions, type ChatMessage, type ChatToolCall, type ChatToolDefinition } from './chatMessages.js';
import { validateChat } from './chatValidation.js';
import { dumpPyJson, fromJs, PyObject, tryParsePyJson, type PyValue } from './pyJson.js';
import { encodeChunksInto, type ContentChunk, type EncodedPrompt, type ImageChunk, type TextChunk } from './requestEncoding.js';
import type { Tekkenizer } from './tekkenizer.js';

export { ChatFormatError, truncateToolCallId } from './chatMessages.js';
export type { ChatEncodeOptions, ChatMessage, ChatToolCall, ChatToolDefinition } from './chatMessages.js';

const JOIN = '\n\n';

type Content<I extends ImageChunk> = string | readonly ContentChunk<I>[] | null | undefined;

type Normalized<I extends ImageChunk> =
  | { role: 'system'; content: string | ContentChunk<I>[] }
  | { role: 'user'; content: string | ContentChunk<I>[] }
  | { role: 'assistant'; content: string | ContentChunk<I>[]; toolCalls: ChatToolCall[]; prefix: boolean }
  | { role: 'tool'; content: string; toolCallId: string };

/**
 * mistral_common `_aggregate_content_chunks_impl`: text of different messages joins with "\n\n",
 * adjacent text chunks of one message too; empty texts vanish; a string if only text remains.
 */
function aggregateContent<I extends ImageChunk>(contents: readonly Content<I>[]): string | ContentChunk<I>[] {
  const all: ContentChunk<I>[] = [];
  const text: string[] = [];
  const flush = () => {
    if (text.length > 0) all.push({ type: 'text', text: text.join('') });
    text.length = 0;
  };
  for (const content of contents) {
    if (content === null || content === undefined || content.length === 0) continue;
    if (typeof content === 'string') {
      text.push((text.length > 0 ? JOIN : '') + content);
      continue;
    }
    for (const chunk of content as readonly ContentChunk<I>[]) {
      if (chunk.type === 'text') {
        if (chunk.text.length === 0) continue;
        // mistral_common joins with its message or its chunk separator here: both are "\n\n" in v7.
        text.push((text.length === 0 ? '' : JOIN) + chunk.text);
      } else {
        flush();
        all.push(chunk);
      }
    }
  }
  if (all.length === 0) return text.join('');
  flush();
  return all;
}

function normalize<I extends ImageChunk>(messages: readonly ChatMessage<I>[]): Normalized<I>[] {
  const out: Normalized<I>[] = [];
  let i = 0;
  while (i < messages.length) {
    const role = messages[i].role;
    let j = i;
    while (j < messages.length && messages[j].role === role) j++;
    const group = messages.slice(i, j);
    for (const m of group) {
      if (m.role === 'system') out.push({ role: 'system', content: aggregateContent<I>([m.content]) });
      else if (m.role === 'tool') {
        const content = aggregateContent<I>([m.content]);
        if (typeof content !== 'string') throw new ChatFormatError(`messages[${i}] (tool): tool content must be text`);
        out.push({ role: 'tool', content, toolCallId: m.toolCallId ?? 'null' });
      }
    }
    if (role === 'user') out.push({ role, content: aggregateContent(group.map((m) => m.content as Content<I>)) });
    else if (role === 'assistant') {
      const assistants = group as Extract<ChatMessage<I>, { role: 'assistant' }>[];
      out.push({
        role,
        content: aggregateContent<I>(assistants.map((m) => m.content)),
        toolCalls: assistants.flatMap((m) => m.toolCalls ?? []),
        prefix: assistants.some((m) => m.prefix === true),
      });
    }
    i = j;
  }
  if (out.length === 0) out.push({ role: 'user', content: '' });
  return out;
}

/** mistral_common `_normalize_json_content` then `_prepare_function_call`'s json.loads. */
function argumentsValue(text: string): PyValue {
  const parsed = tryParsePyJson(text.length === 0 ? '{}' : text);
  return parsed ? parsed.value : text;
}

/** The JSON after [TOOL_CALLS] for these calls (mistral_common v7's `_prepare_function_call`). */
export function toolCallsJson(calls: readonly ChatToolCall[]): string {
  return dumpPyJson(
    calls.map((c) => {
      const entries: [string, PyValue][] = [
        ['name', c.name],
        ['arguments', argumentsValue(c.arguments)],
      ];
      if (c.id && c.id !== 'null') entries.push(['id', c.id]);
      return new PyObject(entries);
    }),
  );
}

/** The JSON between [AVAILABLE_TOOLS] and [/AVAILABLE_TOOLS] (Tool.model_dump without `strict`). */
export function availableToolsJson(tools: readonly ChatToolDefinition[]): string {
  return dumpPyJson(
    tools.map(
      (t) =>
        new PyObject([
          ['type', 'function'],
          [
            'function',
            new PyObject([
              ['name', t.name],
              ['description', t.description ?? ''],
              ['parameters', fromJs(t.parameters ?? {})],
            ]),
          ],
        ]),
    ),
  );
}

/** mistral_common 1.11.5+ `_maybe_put_image_first`: the last chunk moves first when it is an
 *  image and every chunk before it is text. */
function imageFirst<I extends ImageChunk>(content: readonly ContentChunk<I>[]): readonly ContentChunk<I>[] {
  const n = content.length;
  if (n >= 2 && content[n - 1].type === 'image' && content.slice(0, -1).every((c) => c.type === 'text')) return [content[n - 1], ...content.slice(0, -1)];
  return content;
}

/** Encodes a chat as mistral_common's v7 instruct template does (system prompt, [INST], tools, images). */
export function encodeChat<I extends ImageChunk>(
  tokenizer: Tekkenizer,
  messages: readonly ChatMessage<I>[],
  options: ChatEncodeOptions = {},
): EncodedPrompt<I> {
  validateChat(messages, options);
  const normalized = normalize(messages);
  const ids: number[] = [tokenizer.bosId];
  const images: I[] = [];
  const last = normalized.length - 1;
  const lastUser = normalized.map((m) => m.role).lastIndexOf('user');
  const tools = options.tools ?? [];
  const special = (name: string) => tokenizer.specialId(name);
  normalized.forEach((m, idx) => {
    if (m.role === 'system') {
      const content = typeof m.content === 'string' ? [{ type: 'text', text: m.content } as TextChunk] : m.content;
      ids.push(tokenizer.systemPromptId);
      encodeChunksInto(tokenizer, content, ids, images);
      ids.push(tokenizer.systemPromptEndId);
    } else if (m.role === 'user') {
      if (idx === lastUser && tools.length > 0) {
        ids.push(special('[AVAILABLE_TOOLS]'));
        tokenizer.encodeInto(availableToolsJson(tools), ids);
        ids.push(special('[/AVAILABLE_TOOLS]'));
      }
      ids.push(tokenizer.instId);
      if (typeof m.content === 'string') tokenizer.encodeInto(m.content, ids);
      else encodeChunksInto(tokenizer, imageFirst(m.content), ids, images);
      ids.push(tokenizer.instEndId);
    } else if (m.role === 'tool') {
      ids.push(special('[TOOL_RESULTS]'));
      tokenizer.encodeInto(m.toolCallId, ids);
      ids.push(special('[TOOL_CONTENT]'));
      tokenizer.encodeInto(m.content, ids);
      ids.push(special('[/TOOL_RESULTS]'));
    } else {
      const continueMessage = options.continueFinalMessage === true && idx === last;
      if (m.content.length === 0 && m.toolCalls.length === 0) {
        throw new ChatFormatError(`assistant message ${idx} (after merging) has neither content nor tool_calls`);
      }
      if (typeof m.content === 'string') tokenizer.encodeInto(m.content.replace(/ +$/, ''), ids);
      else encodeChunksInto(tokenizer, m.content, ids, images);
      if (m.toolCalls.length > 0) {
        ids.push(special('[TOOL_CALLS]'));
        tokenizer.encodeInto(toolCallsJson(m.toolCalls), ids);
      }
      if (!m.prefix && !continueMessage) ids.push(tokenizer.eosId);
    }
  });
  return { ids, images };
}
