// Vision features per BatchImage.key, so an image whose [IMG] tokens span several prefill
// chunks is encoded once; an entry is dropped once the last token of its span has run, or when
// no step used it for MAX_IDLE_STEPS steps (an aborted or preempted request: should its image
// come back, a miss only re-encodes it).
import type { Backend, DeviceTensor } from '../backend/backend.js';
import type { BatchImage, ForwardBatch } from './forwardBatch.js';
import type { ModelConfig } from './config.js';
import type { ProjectorWeights, VisionWeights } from './deviceWeights.js';
import { encodeImages } from './visionEncoder.js';

const MAX_IDLE_STEPS = 32;

interface CachedImage {
  readonly features: DeviceTensor; // [imgTokens, hidden]
  lastStep: number;
  readonly gridCols: number; // merged tokens per row (W_tok)
  readonly spanLength: number; // H_tok * (W_tok + 1)
}

/** Where the rows of one image's features go in this step's hidden states. */
export interface FeaturePlacement {
  readonly features: DeviceTensor; // [count, hidden] view of the image's feature rows
  readonly batchRows: Int32Array; // [count] rows of the batch holding [IMG] tokens
}

export class ImageFeatureCache {
  private readonly entries = new Map<string, CachedImage>();
  private step = 0;

  constructor(
    private readonly backend: Backend,
    private readonly cfg: ModelConfig,
    private readonly vision: VisionWeights | null,
    private readonly projector: ProjectorWeights | null,
  ) {}

  /** Encodes the batch's images not cached yet (together, one encoder call) and returns
   *  where each image's feature rows go. Frees entries whose span ends in this step. */
  place(batch: ForwardBatch): FeaturePlacement[] {
    this.step++;
    this.evictIdle();
    if (batch.images.length === 0) return [];
    this.encodeMissing(batch.images);
    const out: FeaturePlacement[] = [];
    for (const img of batch.images) {
      const entry = this.entries.get(img.key) as CachedImage;
      entry.lastStep = this.step;
      const per = entry.gridCols + 1;
      const imgBefore = (p: number) => Math.floor(p / per) * entry.gridCols + Math.min(p % per, entry.gridCols);
      if (img.spanOffset < 0 || img.length < 0 || img.spanOffset + img.length > entry.spanLength) {
        throw new Error(`image ${img.key}: tokens ${img.spanOffset}..${img.spanOffset + img.length} outside its span of ${entry.spanLength}`);
      }
      const first = imgBefore(img.spanOffset);
      const expected = imgBefore(img.spanOffset + img.length) - first;
      const rows: number[] = [];
      for (let j = 0; j < img.length; j++) {
        const p = img.spanOffset + j; // position within the span
        const want = p === entry.spanLength - 1 ? this.cfg.imageEndTokenId : p % per === entry.gridCols ? this.cfg.imageBreakTokenId : this.cfg.imageTokenId;
        const r = img.batchStart + j;
        if (batch.tokenIds[r] !== want) {
          throw new Error(`image ${img.key}: batch row ${r} holds token ${batch.tokenIds[r]} where its ${img.height}x${img.width} layout has ${want}`);
        }
        if (want === this.cfg.imageTokenId) rows.push(r);
      }
      const hidden = entry.features.shape[1];
      out.push({
        features: this.backend.view(entry.features, [expected, hidden], first * hidden),
        batchRows: Int32Array.from(rows),
      });
    }
    return out;
  }

  /** Call after the step that used `place(batch)` ran. */
  release(batch: ForwardBatch): void {
    for (const img of batch.images) {
      const entry = this.entries.get(img.key);
      if (entry && img.spanOffset + img.length >= entry.spanLength) {
        this.backend.free(entry.features);
        this.entries.delete(img.key);
      }
    }
  }

  /** Images held now (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private evictIdle(): void {
    for (const [key, e] of this.entries) {
      if (this.step - e.lastStep > MAX_IDLE_STEPS) {
        this.backend.free(e.features);
        this.entries.delete(key);
      }
    }
  }

  clear(): void {
    for (const e of this.entries.values()) this.backend.free(e.features);
    this.entries.clear();
  }

  private encodeMissing(images: readonly BatchImage[]): void {
    const missing = images.filter((img, i) => !this.entries.has(img.key) && images.findIndex((o) => o.key === img.key) === i);
    if (missing.length === 0) return;
    if (!this.vision || !this.projector || !this.cfg.vision || !this.cfg.projector) {
      throw new Error('this checkpoint has no vision encoder: it cannot take images');
    }
    const { features, rowStarts } = encodeImages(this.backend, this.cfg, this.vision, this.projector, missing);
    const tokenPixels = this.cfg.vision.patchSize * this.cfg.projector.spatialMergeSize;
    const hidden = features.shape[1];
    missing.forEach((img, i) => {
      const rows = rowStarts[i + 1] - rowStarts[i];
      const own = this.backend.alloc([rows, hidden], features.dtype);
      const idx = this.backend.alloc([rows], 'i32');
      this.backend.write(idx, Int32Array.from({ length: rows }, (_, j) => rowStarts[i] + j));
      this.backend.gatherRows(own, features, idx);
      this.backend.free(idx);
      const cols = img.width / tokenPixels;
      this.entries.set(img.key, { features: own, lastStep: this.step, gridCols: cols, spanLength: (img.height / tokenPixels) * (cols + 1) });
    });
    this.backend.free(features);
  }
}
