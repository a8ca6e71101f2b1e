// The text decoder run the ordinary way (src/model/textDecoder.ts on one backend), producing
// the f32 logits of every token of a step: the reference the tensor-parallel forward is
// compared with. Steps of one sequence whose blocks are 0, 1, 2, ...
import type { AttentionMetadata, Backend, DeviceTensor } from '../../src/backend/backend.js';
import { freeModelWeights, loadModelWeights, type ModelWeights } from '../../src/model/deviceWeights.js';
import { KV_BLOCK_SIZE } from '../../src/model/modelRunner.js';
import { runTextDecoder, TextWorkspace } from '../../src/model/textDecoder.js';
import type { TextStep } from '../../src/model/tensorParallel/shardedTextModel.js';
import type { WeightSource } from '../../src/model/weights.js';

/** A step of one sequence: `tokenIds` at positions start.., blocks 0..maxBlocks-1. */
export function sequenceStep(tokenIds: readonly number[], start: number, maxBlocks: number): TextStep {
  const n = tokenIds.length;
  const positions = Int32Array.from({ length: n }, (_, i) => start + i);
  return {
    tokenIds: Int32Array.from(tokenIds),
    positions,
    queryLens: Int32Array.of(n),
    contextLens: Int32Array.of(start + n),
    slotMapping: positions.slice(), // block b holds positions b*16.. (the identity slot map)
    blockTables: Int32Array.from({ length: maxBlocks }, (_, b) => b),
    maxBlocksPerSeq: maxBlocks,
  };
}

export class UnshardedText {
  private readonly ws: TextWorkspace;
  private readonly kCaches: DeviceTensor[];
  private readonly vCaches: DeviceTensor[];
  private readonly logits: DeviceTensor;

  private constructor(
    private readonly b: Backend,
    private readonly w: ModelWeights,
    private readonly source: WeightSource,
    maxTokens: number,
    numBlocks: number,
  ) {
    const t = source.config.text;
    this.ws = new TextWorkspace(b, t, maxTokens);
    const cache = () => b.alloc([numBlocks, KV_BLOCK_SIZE, t.numKvHeads, t.headDim], b.activationDType);
    this.kCaches = Array.from({ length: t.numLayers }, cache);
    this.vCaches = Array.from({ length: t.numLayers }, cache);
    this.logits = b.alloc([maxTokens, t.vocabSize], 'f32');
  }

  static async create(source: WeightSource, b: Backend, maxTokens: number, numBlocks: number): Promise<UnshardedText> {
    return new UnshardedText(b, await loadModelWeights(source, b, { parallel: false }), source, maxTokens, numBlocks);
  }

  async forward(step: TextStep): Promise<Float32Array> {
    const b = this.b;
    const t = this.source.config.text;
    const n = step.tokenIds.length;
    const i32 = (data: Int32Array) => {
      const d = b.alloc([data.length], 'i32');
      b.write(d, data);
      return d;
    };
    const starts = Int32Array.of(0, n);
    const ids = i32(step.tokenIds);
    const positions = i32(step.positions);
    const slots = i32(step.slotMapping);
    const tables = i32(step.blockTables);
    const meta: AttentionMetadata = {
      numSeqs: 1,
      queryStarts: i32(starts),
      contextLens: i32(step.contextLens),
      blockTables: b.view(tables, [1, step.maxBlocksPerSeq]),
      maxBlocksPerSeq: step.maxBlocksPerSeq,
      maxQueryLen: n,
      maxContextLen: step.contextLens[0],
    };
    b.embedding(this.ws.rows(this.ws.residual, n), this.w.text.embeddings, ids);
    runTextDecoder(b, t, this.w.text, this.ws, { numTokens: n, positions, slotMapping: slots, meta, kCaches: this.kCaches, vCaches: this.vCaches });
    const logits = b.view(this.logits, [n, t.vocabSize]);
    b.matmul(logits, this.ws.rows(this.ws.normed, n), this.w.text.output);
    const out = (await b.download(logits)) as Float32Array;
    for (const d of [ids, positions, slots, tables, meta.queryStarts, meta.contextLens]) b.free(d);
    return out;
  }

  free(): void {
    this.ws.free();
    freeModelWeights(this.b, this.w);
    for (const c of [...this.kCaches, ...this.vCaches, this.logits]) this.b.free(c);
  }
}
