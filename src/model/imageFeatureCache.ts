// Vision features per BatchImage.key, so an image whose [IMG] tokens span several prefill
// chunks is encoded once; an entry is dropped once the last token of its span has run.
import type { Backend, DeviceTensor } from '../backend/backend.js';
import type { BatchImage, ForwardBatch } from './forwardBatch.js';
import type { ModelConfig } from './config.js';
import type { ProjectorWeights, VisionWeights } from './deviceWeights.js';
import { encodeImages } from './visionEncoder.js';

interface CachedImage {
  readonly features: DeviceTensor; // [imgTokens, hidden]
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

  constructor(
    private readonly backend: Backend,
    private readonly cfg: ModelConfig,
    private readonly vision: VisionWeights | null,
    private readonly projector: ProjectorWeights | null,
  ) {}

  /** Encodes the batch's images not cached yet (together, one encoder call) and returns
   *  where each image's feature rows go. Frees entries whose span ends in this step. */
  place(batch: ForwardBatch): FeaturePlacement[] {
    if (batch.images.length === 0) return [];
    this.encodeMissing(batch.images);
    const out: FeaturePlacement[] = [];
    for (const img of batch.images) {
      const entry = this.entries.get(img.key) as CachedImage;
      const per = entry.gridCols + 1;
      const imgBefore = (p: number) => Math.floor(p / per) * entry.gridCols + Math.min(p % per, entry.gridCols);
      if (img.spanOffset < 0 || img.length < 0 || img.spanOffset + img.length > entry.spanLength) {
        throw new Error(`image ${img.key}: tokens ${img.spanOffset}..${img.spanOffset + img.length} outside its span of ${entry.spanLength}`);
      }
      const first = imgBefore(img.spanOffset);
      const expected = imgBefore(img.spanOffset + img.length) - first;
      const rows: number[] = [];
      for (let r = img.batchStart; r < img.batchStart + img.length; r++) {
        if (batch.tokenIds[r] === this.cfg.imageTokenId) rows.push(r);
      }
      if (rows.length !== expected) {
        throw new Error(`image ${img.key}: ${rows.length} [IMG] tokens in its rows where its ${img.height}x${img.width} layout has ${expected}`);
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
      this.entries.set(img.key, { features: own, gridCols: cols, spanLength: (img.height / tokenPixels) * (cols + 1) });
    });
    this.backend.free(features);
  }
}
