// The i32 inputs of one text-decoder step on a backend, in fixed buffers sized for the largest
// step (so a recorded decode graph reads every step's values from the same addresses): token
// ids, positions, KV slots, and the attention metadata (query starts, context lengths, block
// tables).
import type { AttentionMetadata, Backend, DeviceTensor } from '../backend/backend.js';

/** One step's values as the host has them. */
export interface StepUpload {
  /** [numTokens] */
  readonly tokenIds: Int32Array;
  readonly positions: Int32Array;
  readonly slotMapping: Int32Array;
  /** [numSeqs + 1] prefix sums of the query lengths (prefixStarts). */
  readonly queryStarts: Int32Array;
  /** [numSeqs] */
  readonly contextLens: Int32Array;
  /** [numSeqs, blocksPerSeq] row-major, padded with -1. */
  readonly blockTables: Int32Array;
  readonly blocksPerSeq: number;
  /** Host-side bounds for launch sizing (a fixed bound per shape for recorded graphs). */
  readonly maxQueryLen: number;
  readonly maxContextLen: number;
}

/** [queryLens.length + 1]: 0, then the running sums of queryLens. */
export function prefixStarts(queryLens: Int32Array): Int32Array {
  const starts = new Int32Array(queryLens.length + 1);
  for (let s = 0; s < queryLens.length; s++) starts[s + 1] = starts[s] + queryLens[s];
  return starts;
}

export class StepBuffers {
  private readonly ids: DeviceTensor;
  private readonly positions: DeviceTensor;
  private readonly slots: DeviceTensor;
  private readonly queryStarts: DeviceTensor;
  private readonly contextLens: DeviceTensor;
  private readonly blockTables: DeviceTensor;

  constructor(
    private readonly b: Backend,
    maxTokens: number,
    maxSeqs: number,
    maxBlocksPerSeq: number,
  ) {
    this.ids = b.alloc([maxTokens], 'i32');
    this.positions = b.alloc([maxTokens], 'i32');
    this.slots = b.alloc([maxTokens], 'i32');
    this.queryStarts = b.alloc([maxSeqs + 1], 'i32');
    this.contextLens = b.alloc([maxSeqs], 'i32');
    this.blockTables = b.alloc([maxSeqs * maxBlocksPerSeq], 'i32');
  }

  /** Writes the step's values into the buffers; returns its attention metadata (views). */
  write(u: StepUpload): AttentionMetadata {
    const b = this.b;
    const numSeqs = u.contextLens.length;
    b.write(this.ids, u.tokenIds);
    b.write(this.positions, u.positions);
    b.write(this.slots, u.slotMapping);
    b.write(this.queryStarts, u.queryStarts);
    b.write(this.contextLens, u.contextLens);
    b.write(this.blockTables, u.blockTables);
    return {
      numSeqs,
      queryStarts: b.view(this.queryStarts, [numSeqs + 1]),
      contextLens: b.view(this.contextLens, [numSeqs]),
      blockTables: b.view(this.blockTables, [numSeqs, u.blocksPerSeq]),
      maxBlocksPerSeq: u.blocksPerSeq,
      maxQueryLen: u.maxQueryLen,
      maxContextLen: u.maxContextLen,
    };
  }

  /** The first n token ids, positions and slots written. */
  tokens(n: number): { ids: DeviceTensor; positions: DeviceTensor; slotMapping: DeviceTensor } {
    return { ids: this.b.view(this.ids, [n]), positions: this.b.view(this.positions, [n]), slotMapping: this.b.view(this.slots, [n]) };
  }

  free(): void {
    for (const t of [this.ids, this.positions, this.slots, this.queryStarts, this.contextLens, this.blockTables]) this.b.free(t);
  }
}
