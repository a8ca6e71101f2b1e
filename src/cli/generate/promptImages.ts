// Images for `tramontane generate --image`: path or URL -> the engine's prepared image
// (normalised pixels and its token span), through the model's image preprocessor.
import { ImageError } from '../../image/index.js';
import type { ImagePreprocessor, PreparedImage } from '../../engine/promptInput.js';
import { CliError } from '../errors.js';

export async function loadPromptImages(sources: readonly string[], images: ImagePreprocessor | null): Promise<PreparedImage[]> {
  if (sources.length === 0) return [];
  if (!images) throw new CliError('this model has no vision encoder: --image cannot be used');
  try {
    return await Promise.all(sources.map((source) => images.encode(source)));
  } catch (e) {
    throw e instanceof ImageError ? new CliError(e.message) : e;
  }
}
