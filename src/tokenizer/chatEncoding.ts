// The v7 instruct encoding of a chat, as mistral_common's InstructRequestNormalizerV7 followed by
// InstructTokenizerV7.encode_instruct:
//   <s> then, per (normalised) message:
//   system     [SYSTEM_PROMPT] text [/SYSTEM_PROMPT]      (each system message on its own, in place)
//   user       [INST] content [/INST]                      (text and image chunks)
//   assistant  text</s>                                    (trailing spaces stripped; no </s> when prefix)
// Normalisation: consecutive user messages merge into one, as do consecutive assistant messages;
// their text joins with "\n\n". In a user content of exactly two chunks whose second is an image,
// the two swap (mistral_common's image-first rule).
import { encodeChunksInto, type ContentChunk, type EncodedPrompt, type ImageChunk, type TextChunk } from './requestEncoding.js';
import type { Tekkenizer } from './tekkenizer.js';

export type ChatMessage<I extends ImageChunk = ImageChunk> =
  | { role: 'system'; content: string | readonly TextChunk[] }
  | { role: 'user'; content: string | readonly ContentChunk<I>[] }
  | { role: 'assistant'; content: string | readonly TextChunk[]; prefix?: boolean };

export interface ChatEncodeOptions {
  /** The last message is an assistant message to be continued: no </s> after it. */
  continueFinalMessage?: boolean;
}

/** Thrown for a chat mistral_common would refuse; the message says which message and why. */
export class ChatFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatFormatError';
  }
}

const JOIN = '\n\n';

type Normalized<I extends ImageChunk> =
  | { role: 'system'; content: string | ContentChunk<I>[] }
  | { role: 'user'; content: string | ContentChunk<I>[] }
  | { role: 'assistant'; content: string | ContentChunk<I>[]; prefix: boolean };

/**
 * mistral_common `_aggregate_content_chunks_impl`: text of different messages joins with "\n\n",
 * adjacent text chunks of one message too; empty texts vanish; a string if only text remains.
 */
function aggregateContent<I extends ImageChunk>(contents: readonly (string | readonly ContentChunk<I>[])[]): string | ContentChunk<I>[] {
  const all: ContentChunk<I>[] = [];
  const text: string[] = [];
  const flush = () => {
    if (text.length > 0) all.push({ type: 'text', text: text.join('') });
    text.length = 0;
  };
  for (const content of contents) {
    if (content.length === 0) continue;
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
    if (role === 'system') {
      for (const m of group) out.push({ role, content: aggregateContent<I>([m.content]) });
    } else if (role === 'user') {
      out.push({ role, content: aggregateContent(group.map((m) => m.content)) });
    } else if (role === 'assistant') {
      const prefix = group.some((m) => m.role === 'assistant' && m.prefix === true);
      out.push({ role, content: aggregateContent<I>(group.map((m) => m.content)), prefix });
    } else {
      throw new ChatFormatError(`message ${i}: unknown role ${JSON.stringify(role)} (expected system, user or assistant)`);
    }
    i = j;
  }
  if (out.length === 0) out.push({ role: 'user', content: '' });
  return out;
}

function checkMessages(messages: readonly ChatMessage<ImageChunk>[]): void {
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null) throw new ChatFormatError(`message ${i} is not an object`);
    const c = (m as { content: unknown }).content;
    if (typeof c !== 'string' && !Array.isArray(c)) throw new ChatFormatError(`message ${i} (${m.role}): content must be a string or a list of chunks`);
    if (Array.isArray(c) && m.role !== 'user' && c.some((ch: { type?: unknown }) => ch?.type !== 'text')) {
      throw new ChatFormatError(`message ${i} (${m.role}): only user messages may hold image chunks`);
    }
  });
}

export function encodeChat<I extends ImageChunk>(
  tokenizer: Tekkenizer,
  messages: readonly ChatMessage<I>[],
  options: ChatEncodeOptions = {},
): EncodedPrompt<I> {
  checkMessages(messages);
  const normalized = normalize(messages);
  const ids: number[] = [tokenizer.bosId];
  const images: I[] = [];
  const last = normalized.length - 1;
  if (options.continueFinalMessage && normalized[last].role !== 'assistant') {
    throw new ChatFormatError('continueFinalMessage needs the last message to be an assistant message');
  }
  normalized.forEach((m, idx) => {
    const content = typeof m.content === 'string' ? [{ type: 'text', text: m.content } as TextChunk] : m.content;
    if (m.role === 'system') {
      ids.push(tokenizer.systemPromptId);
      encodeChunksInto(tokenizer, content, ids, images);
      ids.push(tokenizer.systemPromptEndId);
    } else if (m.role === 'user') {
      // mistral_common's image-first rule: exactly two chunks, the second an image -> swap them.
      const chunks = content.length === 2 && content[1].type === 'image' ? [content[1], content[0]] : content;
      ids.push(tokenizer.instId);
      encodeChunksInto(tokenizer, chunks, ids, images);
      ids.push(tokenizer.instEndId);
    } else {
      const continueMessage = options.continueFinalMessage === true && idx === last;
      if (continueMessage && m.prefix) throw new ChatFormatError('continueFinalMessage is only for an assistant message without prefix');
      if (m.content.length === 0) throw new ChatFormatError(`assistant message ${idx} (after merging) has no content`);
      if (typeof m.content === 'string') tokenizer.encodeInto(m.content.replace(/ +$/, ''), ids);
      else encodeChunksInto(tokenizer, m.content, ids, images);
      if (!m.prefix && !continueMessage) ids.push(tokenizer.eosId);
    }
  });
  return { ids, images };
}
