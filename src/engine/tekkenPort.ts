// The Tekken tokenizer seen through the engine's ports: EngineTokenizer (encode, decode,
// incremental detokenisation) and the v7 chat encoder with images.
import { encodeChat, type ChatMessage, type ImageChunk } from '../tokenizer/index.js';
import { imageTokenIdsOf } from '../tokenizer/requestEncoding.js';
import { IncrementalDetokenizer } from '../tokenizer/incrementalDetokenizer.js';
import type { Tekkenizer } from '../tokenizer/tekkenizer.js';
import type { ImageTokenIds, PreparedImage } from './promptInput.js';
import type { ChatEncoder, ChatTurn } from './chatPort.js';
import type { EngineTokenizer } from './tokenizerPort.js';

export function tekkenEngineTokenizer(t: Tekkenizer): EngineTokenizer {
  const policy = (skip: boolean) => (skip ? 'ignore' : 'keep') as 'ignore' | 'keep';
  return {
    bosId: t.bosId,
    eosId: t.eosId,
    vocabSize: t.vocabSize,
    encode: (text, o) => t.encode(text, { bos: o.bos, eos: o.eos }),
    decode: (ids, o) => t.decode(ids, { specialTokenPolicy: policy(o.skipSpecialTokens) }),
    tokenText: (id) => t.idToPiece(id),
    newDetokenizer(o) {
      const d = new IncrementalDetokenizer(t, { specialTokenPolicy: policy(o.skipSpecialTokens) });
      return { push: (id) => d.push(id), flush: () => d.flush() };
    },
  };
}

interface ImageWithGrid extends ImageChunk {
  readonly prepared: PreparedImage;
}

/** Grid of an image from its token span: rows end with [IMG_BREAK] / [IMG_END]. */
function gridOf(img: PreparedImage, ids: ImageTokenIds): { widthTokens: number; heightTokens: number } {
  const heightTokens = img.tokens.filter((t) => t === ids.imgBreak || t === ids.imgEnd).length;
  const widthTokens = img.tokens.length / Math.max(1, heightTokens) - 1;
  if (heightTokens < 1 || !Number.isInteger(widthTokens) || widthTokens < 1) throw new Error(`an image's ${img.tokens.length} tokens do not form a grid`);
  return { widthTokens, heightTokens };
}

export function tekkenChatEncoder(t: Tekkenizer): ChatEncoder {
  const ids = imageTokenIdsOf(t);
  return (turns: readonly ChatTurn[], options) => {
    const messages = turns.map((turn): ChatMessage<ImageWithGrid> => {
      if (typeof turn.content === 'string') return { role: turn.role, content: turn.content } as ChatMessage<ImageWithGrid>;
      const chunks = turn.content.map((p) => (p.type === 'text' ? { type: 'text' as const, text: p.text } : { type: 'image' as const, prepared: p.image, ...gridOf(p.image, ids) }));
      return { role: turn.role, content: chunks } as ChatMessage<ImageWithGrid>;
    });
    const encoded = encodeChat(t, messages, { continueFinalMessage: options.continueFinalMessage });
    return { tokens: encoded.ids, images: encoded.images.map((i) => i.prepared) };
  };
}
