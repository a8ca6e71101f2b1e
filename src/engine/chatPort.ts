// What the engine needs to encode a chat: turns of text and prepared images in, the instruct
// prompt's tokens and its images out. tekkenPort.ts adapts the Tekken v7 chat encoding to it.
import type { PreparedImage } from './promptInput.js';

export type ChatContentPart = { readonly type: 'text'; readonly text: string } | { readonly type: 'image'; readonly image: PreparedImage };

export interface ChatTurn {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string | readonly ChatContentPart[];
}

/** The instruct (v7) encoding of a chat: its tokens, and its images in the order of their spans. */
export type ChatEncoder = (turns: readonly ChatTurn[], options: { readonly continueFinalMessage: boolean }) => { tokens: number[]; images: PreparedImage[] };
