/** The `image` (older: `multimodal`) block of tekken.json, as mistral_common's ImageConfig. */
export interface ImageConfig {
  /** Pixels per patch side (14). */
  readonly patchSize: number;
  /** Longest image side in pixels before downscaling (1540). */
  readonly maxImageSize: number;
  /** Patches merged per token side (2): one image token covers patchSize * spatialMergeSize pixels a side. */
  readonly spatialMergeSize: number;
}
