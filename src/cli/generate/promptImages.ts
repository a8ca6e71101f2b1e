// Images for `tramontane generate --image`: path or URL -> normalised pixels and image tokens.
import { ImageEncoder, ImageError } from '../../image/index.js';
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
  const encoder = ImageEncoder.fromModelConfig(cfg);
  try {
    return await Promise.all(sources.map((source) => encoder.encode(source)));
  } catch (e) {
    throw e instanceof ImageError ? new CliError(e.message) : e;
  }
}
