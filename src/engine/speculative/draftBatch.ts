// A ForwardBatch for the draft model's runner: per sequence a run of its tokens (prompt,
// output or draft, by position) through the draft's own block tables; text only.
import type { ForwardBatch } from '../../model/forwardBatch.js';
import type { BatchSampling, SeqSampling } from '../../model/sampling.js';
import type { BlockManager } from '../blockManager.js';
import type { EngineRequest } from '../request.js';

export interface DraftRows {
  readonly req: EngineRequest;
  /** First position computed (the draft cache holds the tokens before it). */
  readonly start: number;
  readonly count: number;
  /** Set to sample the run's last row. */
  readonly sampling: SeqSampling | null;
}

export function buildSeqRows(rows: readonly DraftRows[], blocks: BlockManager): [ForwardBatch, BatchSampling] {
  const bs = blocks.blockSize;
  const n = rows.reduce((t, r) => t + r.count, 0);
  const maxBlocksPerSeq = Math.max(...rows.map((r) => blocks.blocksFor(r.start + r.count)));
  const tokenIds = new Int32Array(n);
  const positions = new Int32Array(n);
  const slotMapping = new Int32Array(n);
  const queryLens = new Int32Array(rows.length);
  const contextLens = new Int32Array(rows.length);
  const blockTables = new Int32Array(rows.length * maxBlocksPerSeq).fill(-1);
  const sampleMask = new Uint8Array(rows.length);
  let row = 0;
  rows.forEach((r, i) => {
    const table = blocks.blockTable(r.req.id);
    const end = r.start + r.count;
    if (table.length * bs < end) throw new Error(`draft: request ${r.req.id} holds ${table.length * bs} token slots, the step needs ${end}`);
    for (let p = r.start; p < end; p++, row++) {
      tokenIds[row] = r.req.tokenAt(p);
      positions[row] = p;
      slotMapping[row] = table[Math.floor(p / bs)] * bs + (p % bs);
    }
    queryLens[i] = r.count;
    contextLens[i] = end;
    blockTables.set(table.slice(0, maxBlocksPerSeq), i * maxBlocksPerSeq);
    sampleMask[i] = r.sampling ? 1 : 0;
  });
  const batch: ForwardBatch = { tokenIds, positions, queryLens, contextLens, slotMapping, blockTables, maxBlocksPerSeq, images: [], sampleMask };
  return [batch, rows.map((r) => r.sampling)];
}
