// Images for `tramontane generate --image`: path or URL -> normalised pixels and image tokens.
//
// ADAPTER (tell the lead): the image layer (src/image, ImageEncoder) lives on another branch.
// After the merge, replace the body of `loadPromptImages` with:
//   const enc = ImageEncoder.fromTekkenImageConfig(imageConfig ?? { image_patch_size: cfg.vision.patchSize,
//     max_image_size: cfg.vision.imageSize, spatial_merge_size: cfg.projector.spatialMergeSize });
//   return Promise.all(sources.map((s) => enc.encode(s)));   // EncodedImage has tokens, pixels, height, width
import type { ModelConfig } from '../../model/config.js';
import type { EncoderImage } from '../../model/imagePatches.js';
import { CliError } from '../errors.js';

export interface PromptImage extends EncoderImage {
  /** `([IMG] * widthTokens + [IMG_BREAK]) * heightTokens`, last one `[IMG_END]`. */
  readonly tokens: readonly number[];
}

export async function loadPromptImages(sources: readonly string[], cfg: ModelConfig): Promise<PromptImage[]> {
  if (sources.length === 0) return [];
  if (!cfg.vision) throw new CliError('this model has no vision encoder: --image cannot be used');
  throw new CliError('--image needs the image layer (src/image), which this build lacks');
}
