// What the engine needs to encode a chat: turns of text and prepared images in, the instruct
// prompt's tokens and its images out. tekkenPort.ts adapts the Tekken v7 chat encoding to it.
import type { ChatToolCall, ChatToolDefinition } from '../tokenizer/chatMessages.js';
import type { PreparedImage } from './promptInput.js';

/** One part of a chat turn's content: text, or an image already prepared for the encoder. */
export type ChatContentPart = { readonly type: 'text'; readonly text: string } | { readonly type: 'image'; readonly image: PreparedImage };

/** One message of a chat, images loaded (mistral_common's messages, camelCase). */
export interface ChatTurn {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  /** null only for an assistant message with toolCalls. */
  readonly content: string | readonly ChatContentPart[] | null;
  /** assistant: the calls it made (ids of 9 characters [A-Za-z0-9]). */
  readonly toolCalls?: readonly ChatToolCall[] | null;
  /** tool: the id of the call this is the result of. */
  readonly toolCallId?: string | null;
  readonly name?: string | null;
  /** assistant: the start of the answer (last message only): no </s> after it. */
  readonly prefix?: boolean;
}

export interface ChatEncodeOptions {
  readonly continueFinalMessage: boolean;
  /** Functions the model may call ([AVAILABLE_TOOLS] before the last user message). */
  readonly tools?: readonly ChatToolDefinition[] | null;
}

/** The instruct (v7) encoding of a chat: its tokens, and its images in the order of their spans. */
export type ChatEncoder = (turns: readonly ChatTurn[], options: ChatEncodeOptions) => { tokens: number[]; images: PreparedImage[] };

/** How `prepareChat` encodes a chat: continue the last assistant message, the tools to declare, a trailing [TOOL_CALLS]. */
export interface PrepareChatOptions {
  readonly continueFinalMessage?: boolean;
  readonly tools?: readonly ChatToolDefinition[] | null;
  /** Ends the prompt with [TOOL_CALLS] (a forced tool call: tool_choice required or named). */
  readonly appendToolCallsToken?: boolean;
}
