// Messages between the engine's GrammarService and its grammar worker thread.
import type { GrammarSpec } from './resolveStructured.js';

export interface WorkerInit {
  /** Every token's bytes, concatenated; token i is bytes[offsets[i], offsets[i+1]). Special
   *  tokens have no bytes (xgrammar then treats them as special: never allowed by a grammar). */
  readonly bytes: Uint8Array;
  readonly offsets: Int32Array;
  readonly vocabSize: number;
  readonly stopTokenIds: readonly number[];
}

export type ToWorker =
  | { readonly op: 'compile'; readonly id: number; readonly key: string; readonly spec: GrammarSpec }
  | { readonly op: 'open'; readonly seq: string; readonly key: string }
  | { readonly op: 'accept'; readonly items: readonly (readonly [string, number])[] }
  | { readonly op: 'close'; readonly seq: string }
  | { readonly op: 'release'; readonly key: string }
  /** Writes each row's next-token bitmask (ceil(vocab/32) words, bit set = allowed) into `buffer`
   *  at word offset row * words. */
  | { readonly op: 'fill'; readonly id: number; readonly seqs: readonly string[]; readonly buffer: SharedArrayBuffer };

export type FromWorker =
  | { readonly op: 'ready' }
  /** A compile has begun (its timeout counts from here, not from the queue). */
  | { readonly op: 'compiling'; readonly id: number }
  | { readonly op: 'compiled'; readonly id: number; readonly ms: number; readonly error: string | null }
  | { readonly op: 'filled'; readonly id: number; readonly ms: number; readonly errors: readonly (string | null)[] };
