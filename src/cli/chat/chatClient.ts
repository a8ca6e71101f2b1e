// The two ends `tramontane chat` can talk to, behind one interface: a model loaded in this
// process (localChatClient.ts) or a running server's /v1/chat/completions (remoteChatClient.ts).
import type { ChatEntry } from './conversation.js';

export interface ChatSampling {
  readonly temperature: number;
  /** null: until the context is full (or the end of the answer). */
  readonly maxTokens: number | null;
}

/** One piece of the answer as it streams; the last one carries the usage when known. */
export interface ChatDelta {
  readonly text: string;
  readonly finishReason?: string | null;
  readonly completionTokens?: number;
  /** The prompt's length in tokens (the whole conversation so far), when known. */
  readonly promptTokens?: number;
}

export interface ChatClient {
  /** For the banner: what answers. */
  readonly description: string;
  /** Streams the answer to `messages`; `signal` cancels it (the generator then ends early). */
  stream(messages: readonly ChatEntry[], sampling: ChatSampling, signal: AbortSignal): AsyncGenerator<ChatDelta>;
  close(): Promise<void>;
}
