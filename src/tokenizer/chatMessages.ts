// The chat a v7 instruct model takes, as mistral_common's protocol models it (UserMessage,
// AssistantMessage, ToolMessage, SystemMessage, Tool), with camelCase names.
import type { ContentChunk, ImageChunk, TextChunk } from './requestEncoding.js';

/** A call the assistant made: `arguments` is the JSON text of the arguments (OpenAI's form). */
export interface ChatToolCall {
  /** 9 characters [A-Za-z0-9] (mistral_common v7); cut longer client ids before encoding. */
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** A function the model may call (OpenAI's `tools[].function`). */
export interface ChatToolDefinition {
  readonly name: string;
  readonly description?: string | null;
  /** A JSON schema object (the request's parsed JSON); absent: {}. */
  readonly parameters?: unknown;
}

/** A chat message as the encoder takes it (system, user, assistant, tool). */
export type ChatMessage<I extends ImageChunk = ImageChunk> =
  | { readonly role: 'system'; readonly content: string | readonly TextChunk[] | null }
  | { readonly role: 'user'; readonly content: string | readonly ContentChunk<I>[] | null }
  | {
      readonly role: 'assistant';
      readonly content?: string | readonly TextChunk[] | null;
      readonly toolCalls?: readonly ChatToolCall[] | null;
      /** The message is the start of the answer: no </s> after it (must be the last message). */
      readonly prefix?: boolean;
    }
  | {
      readonly role: 'tool';
      readonly content: string | readonly TextChunk[] | null;
      /** The id of the call this is the result of (9 characters [A-Za-z0-9]). */
      readonly toolCallId?: string | null;
      readonly name?: string | null;
    };

/** Options of encodeChat: continue the final message, tools. */
export interface ChatEncodeOptions {
  /** The last message is an assistant message to be continued: no </s> after it. */
  continueFinalMessage?: boolean;
  /** Functions the model may call: encoded as [AVAILABLE_TOOLS] before the last user message. */
  tools?: readonly ChatToolDefinition[] | null;
}

/** Thrown for a chat mistral_common would refuse; the message says which message and which rule. */
export class ChatFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChatFormatError';
  }
}

/** vLLM cuts tool-call ids longer than 9 characters (OpenAI's `call_...`) to their last 9. */
export function truncateToolCallId(id: string): string {
  return id.length > 9 ? id.slice(-9) : id;
}
