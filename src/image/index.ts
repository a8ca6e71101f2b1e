// Image input, pixel-exact to mistral_common's ImageEncoder (PIL decode + OpenCV INTER_CUBIC).
export { ImageEncoder, CLIP_MEAN, CLIP_STD } from './encoder.js';
export type { EncodeOptions as ImageEncodeOptions, EncodedImage, ImageEncoderOptions, TekkenImageConfig, ParamsVisionEncoder, ModelImageConfig } from './encoder.js';
export { ImageError } from './errors.js';
export type { ImageSource, MediaPolicy } from './source.js';
export { TRUSTED_POLICY, ImageFetchError } from './source.js';
export { PixelSemaphore, RequestImageBudget } from './pixelBudget.js';
export { DEFAULT_MAX_PIXELS } from './decode.js';
export type { RgbImage } from './decode.js';
export { tokenGrid, roundHalfEven } from './sizeRule.js';
export type { TokenGrid } from './sizeRule.js';
export { cubicResizeRgb } from './cubicResize.js';
export type { CubicArithmetic } from './cubicResize.js';
