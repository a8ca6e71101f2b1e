// The contract between the engine (which decides what runs) and the model (which runs it).
// One step of the engine is one ForwardBatch: the new tokens of many sequences, flat and
// unpadded, prefill chunks and decode tokens side by side.

/** An image whose [IMG] tokens (some or all of them) are among this step's tokens. */
export interface BatchImage {
  /** Stable key (request id + image index): the runner caches vision features under it
   *  so an image split across prefill chunks is encoded once. */
  readonly key: string;
  /** Normalised pixels, channel-first: [3, height, width], height and width multiples of
   *  patchSize * spatialMergeSize. */
  readonly pixels: Float32Array;
  readonly height: number;
  readonly width: number;
  /** Row of the batch (index into tokenIds) of the first of this image's tokens in this step. */
  readonly batchStart: number;
  /** How many tokens of the image's span ([IMG], [IMG_BREAK], [IMG_END]) lie in this step. */
  readonly length: number;
  /** Offset within the image's whole token span of the token at batchStart (0 unless the
   *  span was split by chunked prefill). The runner counts [IMG] tokens to pick feature rows. */
  readonly spanOffset: number;
}

export interface ForwardBatch {
  /** [numTokens] the new tokens, sequence after sequence. */
  readonly tokenIds: Int32Array;
  /** [numTokens] absolute position of each token in its sequence (0-based). */
  readonly positions: Int32Array;
  /** [numSeqs] how many new tokens each sequence has in this step (its rows are contiguous). */
  readonly queryLens: Int32Array;
  /** [numSeqs] tokens of each sequence in the KV cache once this step is written,
   *  earlier context plus the new tokens. */
  readonly contextLens: Int32Array;
  /** [numTokens] KV-cache slot (block * blockSize + offset in block) for each new token. */
  readonly slotMapping: Int32Array;
  /** [numSeqs, maxBlocksPerSeq] row-major; each sequence's block ids, padded with -1. */
  readonly blockTables: Int32Array;
  readonly maxBlocksPerSeq: number;
  /** Images whose tokens are in this step. */
  readonly images: readonly BatchImage[];
  /** [numSeqs] 1 when the sequence's last token this step is to be sampled from
   *  (its prompt is complete), else 0 (a prefill chunk that is not the last). */
  readonly sampleMask: Uint8Array;
}

export function numSeqs(batch: ForwardBatch): number {
  return batch.queryLens.length;
}

export function numTokens(batch: ForwardBatch): number {
  return batch.tokenIds.length;
}
