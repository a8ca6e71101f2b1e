// mistral_common's request validation for a v7 tokenizer (MistralRequestValidatorV5, mode
// "test", the mode vLLM loads it with), run on the messages as the client sent them, before
// they are merged. Every refusal is a ChatFormatError naming the message and the rule.
// Stricter than v7 in one place, as mistral_common's v11+ validator: a tool result must answer a
// call of the latest assistant message (its tool_call_id among that message's call ids, once).
import { ChatFormatError, type ChatEncodeOptions, type ChatMessage } from './chatMessages.js';
import type { ImageChunk } from './requestEncoding.js';

const TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Roles that may follow each role (mistral_common `_validate_message_order`). */
const NEXT: Record<string, readonly string[]> = {
  system: ['user', 'assistant', 'system'],
  user: ['assistant', 'system', 'user'],
  assistant: ['assistant', 'user', 'tool'],
  tool: ['assistant', 'tool', 'user'],
};

function fail(message: string): never {
  throw new ChatFormatError(message);
}

function isChunkList(c: unknown): c is readonly { type?: unknown }[] {
  return Array.isArray(c);
}

function checkContent(m: ChatMessage<ImageChunk>, i: number): void {
  const c = (m as { content?: unknown }).content;
  const where = `messages[${i}] (${m.role})`;
  if (m.role === 'assistant') {
    if (c !== undefined && c !== null && typeof c !== 'string' && !isChunkList(c)) fail(`${where}: content must be a string, a list of text chunks or null`);
  } else if (c === null || c === undefined) {
    fail(`${where}: content is required (null is allowed only for an assistant message)`);
  } else if (typeof c !== 'string' && !isChunkList(c)) {
    fail(`${where}: content must be a string or a list of chunks`);
  }
  if (!isChunkList(c)) return;
  c.forEach((chunk, j) => {
    const type = chunk?.type;
    if (type === 'text') {
      if (typeof (chunk as { text?: unknown }).text !== 'string') fail(`${where}: content[${j}].text must be a string`);
      return;
    }
    if (type === 'image' && m.role === 'user') return;
    fail(`${where}: unexpected content chunk type ${JSON.stringify(type)} in a ${m.role} message (${m.role === 'user' ? 'text or image' : 'text only'})`);
  });
}

function checkFunctionName(name: unknown, where: string): void {
  if (typeof name !== 'string' || !FUNCTION_NAME.test(name)) {
    fail(`${where}: function name was ${JSON.stringify(name)} but must be a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length of 64`);
  }
}

function checkToolCallId(id: unknown, where: string): void {
  if (id === undefined || id === null || id === 'null') fail(`${where}: the tool call id has to be defined`);
  if (typeof id !== 'string' || !TOOL_CALL_ID.test(id)) {
    fail(`${where}: tool call id was ${JSON.stringify(id)} but must be a-z, A-Z, 0-9, with a length of 9`);
  }
}

/** Throws a ChatFormatError for a chat mistral_common's v7 validator would refuse. */
export function validateChat(messages: readonly ChatMessage<ImageChunk>[], options: ChatEncodeOptions = {}): void {
  if (!Array.isArray(messages as unknown)) fail('messages must be a list');
  if (messages.length === 0) fail('the conversation must have at least one message');
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null) fail(`messages[${i}] is not an object`);
    if (!(m.role in NEXT)) fail(`messages[${i}]: unknown role ${JSON.stringify(m.role)} (expected system, user, assistant or tool)`);
  });
  const last = messages.length - 1;
  if (messages.length === 1 && messages[0].role !== 'user' && messages[0].role !== 'system') {
    fail(`messages[0] (${messages[0].role}): a conversation must start with a user message or system message`);
  }
  const lastMessage = messages[last];
  if (messages.length > 1 && lastMessage.role === 'assistant' && lastMessage.prefix !== true && options.continueFinalMessage !== true) {
    fail(`messages[${last}] (assistant): the last message must be from the user or a tool, or an assistant message with prefix: true or continue_final_message`);
  }
  if (options.continueFinalMessage === true && lastMessage.role !== 'assistant') {
    fail(`continue_final_message needs the last message to be an assistant message, got ${lastMessage.role}`);
  }
  for (let i = 1; i < messages.length; i++) {
    const prev = messages[i - 1].role;
    if (!NEXT[prev].includes(messages[i].role)) fail(`messages[${i}]: unexpected role '${messages[i].role}' after role '${prev}'`);
  }
  // Tool results answer the calls of the latest assistant message: as many results as calls
  // before the next assistant message, each id one of those calls' (mistral_common v11's rule).
  let expected: string[] | null = null;
  let answered = new Set<string>();
  messages.forEach((m, i) => {
    if (m.role === 'assistant') {
      if (expected !== null && answered.size !== expected.length) {
        fail(`messages[${i}] (assistant): not the same number of function calls and responses (${expected.length} calls, ${answered.size} tool results before it)`);
      }
      expected = m.toolCalls && m.toolCalls.length > 0 ? m.toolCalls.map((c) => c?.id) : null;
      answered = new Set();
    } else if (m.role === 'tool') {
      const id = m.toolCallId;
      if (id === undefined || id === null) fail(`messages[${i}] (tool): tool_call_id is required`);
      if (expected === null || !expected.includes(id)) fail(`messages[${i}] (tool): tool result ${JSON.stringify(id)} answers no tool call of the latest assistant message`);
      if (answered.has(id)) fail(`messages[${i}] (tool): duplicate tool call id ${JSON.stringify(id)} in tool results`);
      answered.add(id);
    }
  });
  messages.forEach((m, i) => {
    const where = `messages[${i}] (${m.role})`;
    checkContent(m, i);
    if (m.role === 'assistant') {
      if (m.toolCalls !== undefined && m.toolCalls !== null) {
        if (!Array.isArray(m.toolCalls)) fail(`${where}: tool_calls must be a list`);
        const seen = new Set<string>();
        m.toolCalls.forEach((call, j) => {
          const at = `${where} tool_calls[${j}]`;
          if (typeof call !== 'object' || call === null) fail(`${at} is not an object`);
          checkToolCallId(call.id, at);
          if (seen.has(call.id)) fail(`${at}: duplicate tool call id ${JSON.stringify(call.id)} in the assistant message`);
          seen.add(call.id);
          checkFunctionName(call.name, at);
          if (typeof call.arguments !== 'string') fail(`${at}: arguments must be a string of JSON`);
        });
      }
      if (m.prefix === true && i !== last) fail(`${where}: an assistant message with prefix: true must be the last message`);
    } else if (m.role === 'tool') {
      if (m.name !== undefined && m.name !== null) checkFunctionName(m.name, where);
      checkToolCallId(m.toolCallId, where);
    }
  });
  const tools = options.tools ?? [];
  if (!Array.isArray(tools as unknown)) fail('tools must be a list');
  tools.forEach((t, i) => {
    if (typeof t !== 'object' || t === null) fail(`tools[${i}] is not an object`);
    checkFunctionName(t.name, `tools[${i}]`);
    const p = t.parameters;
    if (p !== undefined && p !== null && (typeof p !== 'object' || Array.isArray(p))) fail(`tools[${i}]: parameters must be a JSON schema object`);
    if (t.description !== undefined && t.description !== null && typeof t.description !== 'string') fail(`tools[${i}]: description must be a string`);
  });
}
