// One sequence the engine runs: a prompt (token ids and the images whose spans it holds), the
// sampling params, and the state the scheduler advances. n > 1 is n such sequences sharing a
// parent request (see requestState.ts); children after the first wait for its prompt to be cached.
import { createHash } from 'node:crypto';
import type { SamplingParams } from './samplingParams.js';

/** An image of a prompt: its pixels and the token span ([IMG], [IMG_BREAK], [IMG_END]) it fills. */
export interface RequestImage {
  /** Stable key for the runner's vision-feature cache (request id + image index). */
  readonly key: string;
  /** Digest of the pixels: what the prefix cache hashes in place of the image. */
  readonly contentHash: string;
  /** [3, height, width] channel-first normalised pixels. */
  readonly pixels: Float32Array;
  readonly height: number;
  readonly width: number;
  /** Index in the prompt of the span's first token. */
  readonly spanStart: number;
  readonly spanLength: number;
}

export type FinishReason = 'stop' | 'length' | 'abort';
export type RequestStatus = 'waiting' | 'running' | 'finished';

export class EngineRequest {
  readonly outputTokenIds: number[] = [];
  status: RequestStatus = 'waiting';
  finishReason: FinishReason | null = null;
  /** The stop string or stop token id that ended it, as vLLM's stop_reason. */
  stopReason: string | number | null = null;
  /** Tokens whose K/V is in the cache. */
  numComputedTokens = 0;
  /** Prompt tokens served from the prefix cache at first schedule. */
  numCachedTokens = 0;
  /** Prompt positions whose logprobs were already delivered (they survive preemption). */
  promptLogprobsUpTo = 1;
  numPreemptions = 0;
  /** Proposed continuation (speculative decoding) for the next step to verify; not part of the
   *  sequence's tokens. Set before schedule(), consumed (cleared) by update(). */
  draftTokenIds: number[] = [];
  /** Content hashes of the full blocks of prompt + output, computed as blocks fill. */
  private readonly hashes: string[] = [];

  constructor(
    readonly id: string,
    readonly promptTokenIds: readonly number[],
    readonly images: readonly RequestImage[],
    readonly params: SamplingParams,
    /** The seed the runner draws this sequence's tokens from. */
    readonly seed: number,
    /** For n > 1: a sibling whose prompt this one waits for, to reuse its cached blocks. */
    readonly waitFor: EngineRequest | null = null,
  ) {}

  get numPromptTokens(): number {
    return this.promptTokenIds.length;
  }

  get numTokens(): number {
    return this.promptTokenIds.length + this.outputTokenIds.length;
  }

  /** The token at position i; positions past numTokens read the draft tokens. */
  tokenAt(i: number): number {
    const p = this.promptTokenIds.length;
    if (i < p) return this.promptTokenIds[i];
    const o = i - p;
    return o < this.outputTokenIds.length ? this.outputTokenIds[o] : this.draftTokenIds[o - this.outputTokenIds.length];
  }

  get isFinished(): boolean {
    return this.status === 'finished';
  }

  /** Hashes of every full block of the known tokens, each chained with its parent's. */
  blockHashes(blockSize: number): readonly string[] {
    const full = Math.floor(this.numTokens / blockSize);
    for (let i = this.hashes.length; i < full; i++) this.hashes.push(this.hashBlock(i, blockSize));
    return this.hashes;
  }

  private hashBlock(index: number, blockSize: number): string {
    const start = index * blockSize;
    const end = start + blockSize;
    const h = createHash('sha256');
    h.update(index === 0 ? 'root' : this.hashes[index - 1]);
    const ids = new Int32Array(blockSize);
    for (let i = 0; i < blockSize; i++) ids[i] = this.tokenAt(start + i);
    h.update(new Uint8Array(ids.buffer));
    for (const img of this.images) {
      const s = img.spanStart;
      const e = s + img.spanLength;
      if (s < end && e > start) h.update(`|img:${img.contentHash}@${s - start}`);
    }
    return h.digest('hex');
  }
}

/** Digest of an image's pixels and size, for prefix-cache keys. */
export function imageContentHash(pixels: Float32Array, height: number, width: number): string {
  const h = createHash('sha256');
  h.update(`${height}x${width}:`);
  h.update(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  return h.digest('hex');
}
