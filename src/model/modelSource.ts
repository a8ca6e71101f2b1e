// Where a model's weights come from, as vLLM's --model / --load-format / --tokenizer say it:
//   loadFormat 'auto':  a model directory (either layout, src/model/checkpoint.ts), or a
//                       Hugging Face repository id found in the local hub cache (hfCache.ts)
//   loadFormat 'dummy': no weights read: seeded pseudo-random ones (src/model/dummyWeights.ts)
//                       for the config of a model directory or of a built-in name
//                       ('mistral-small-3.1-24b'), so the full-size model runs without its 48 GB.
// A path that exists is always a directory; only a name that is not a path is looked up among
// the built-in configs.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LinearQuantization } from '../backend/backend.js';
import { builtinConfigDir, isBuiltinConfigName, loadBuiltinConfig, readConfigDir, withDeclaredDtype, BUILTIN_CONFIG_NAMES } from './builtinConfigs.js';
import { openCheckpoint } from './checkpoint.js';
import { CheckpointError } from './checkpointError.js';
import type { ModelConfig } from './config.js';
import { DummyWeightSource } from './dummyWeights.js';
import { looksLikeRepoId, resolveHubModel } from './hfCache.js';
import type { WeightSource } from './weights.js';

/** auto: read the weights; dummy: seeded random weights for the config. */
export type LoadFormat = 'auto' | 'dummy';
/** Every load format (`--load-format`). */
export const LOAD_FORMATS: readonly LoadFormat[] = ['auto', 'dummy'];

/** Load-time quantization of a dense checkpoint (vLLM's --quantization): 'fp8' converts the
 *  text decoder's linear weights to FP8 E4M3 with per-row scales (docs/quantization.md). */
export type Quantization = LinearQuantization;
/** Every load-time quantization the engine offers (`--quantization`, LLM.create's `quantization`). */
export const QUANTIZATIONS: readonly Quantization[] = ['fp8'];

/** `value` as a Quantization (undefined: none), or a CheckpointError naming `what`. */
export function checkQuantizationOption(value: unknown, what = 'quantization'): Quantization | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && (QUANTIZATIONS as readonly string[]).includes(value)) return value as Quantization;
  throw new CheckpointError(`${what} must be one of ${QUANTIZATIONS.join(', ')} (got ${JSON.stringify(value)}); FP8 checkpoints need no option, their config says so`);
}

/** The tiny random-weight model shipped in the package (dist/src/model/ -> package root). */
export const EMBEDDED_MODEL_DIR = fileURLToPath(new URL('../../../assets/tiny-default', import.meta.url));

/** Options of openModelSource: the model, load format, tokenizer and seed. */
export interface ModelSourceOptions {
  /** A model directory or a built-in config name. Default: the embedded tiny model. */
  readonly model?: string;
  readonly loadFormat: LoadFormat;
  /** A tekken.json other than the directory's own. */
  readonly tokenizerPath?: string;
  /** Seed of the dummy weights (default 0). */
  readonly seed?: number;
}

/** An opened model: weights, config, the tekken.json to use, and what was opened (for messages). */
export interface ModelSource {
  readonly weights: WeightSource;
  readonly config: ModelConfig;
  /** The tekken.json to use, or null (a built-in config, or a directory without one). */
  readonly tokenizerPath: string | null;
  /** What was opened, for messages: the directory, or "built-in <name>". */
  readonly origin: string;
}

/** Opens what `--model` / `--load-format` name: a checkpoint, a built-in config, or seeded dummy weights. */
export async function openModelSource(o: ModelSourceOptions): Promise<ModelSource> {
  if (!LOAD_FORMATS.includes(o.loadFormat)) {
    throw new CheckpointError(`unknown load format ${JSON.stringify(o.loadFormat)} (${LOAD_FORMATS.join(' or ')})`);
  }
  if (o.tokenizerPath !== undefined && !isFile(o.tokenizerPath)) throw new CheckpointError(`tokenizer file ${o.tokenizerPath} does not exist`);
  const given = o.model ?? EMBEDDED_MODEL_DIR;
  // org/name that is no path here and no built-in config: a snapshot in the Hugging Face cache.
  const model = !existsSync(given) && !isBuiltinConfigName(given) && looksLikeRepoId(given) ? resolveHubModel(given) : given;
  const builtin = !existsSync(model) && isBuiltinConfigName(model);
  if (o.loadFormat === 'auto') {
    if (builtin) {
      throw new CheckpointError(`${model} is a built-in config without weights: use --load-format dummy, or give a model directory`);
    }
    if (!existsSync(model)) throw new CheckpointError(`model directory ${model} does not exist${builtinHint(model)}`);
    const ck = await openCheckpoint(model, o.tokenizerPath === undefined ? {} : { tokenizerPath: o.tokenizerPath });
    return { weights: ck.weights, config: ck.weights.config, tokenizerPath: ck.tokenizerPath, origin: ck.dir };
  }
  if (builtin) {
    const config = await loadBuiltinConfig(model);
    const weights = new DummyWeightSource(config, { seed: o.seed });
    return { weights, config: weights.config, tokenizerPath: o.tokenizerPath ?? null, origin: `built-in ${model} (${builtinConfigDir(model)})` };
  }
  if (!existsSync(model)) throw new CheckpointError(`model directory ${model} does not exist${builtinHint(model)}`);
  if (!statSync(model).isDirectory()) throw new CheckpointError(`model path ${model} is not a directory`);
  const { parsed } = await readConfigDir(model);
  const weights = new DummyWeightSource(withDeclaredDtype(parsed), { seed: o.seed });
  const own = join(model, 'tekken.json');
  const tokenizerPath = o.tokenizerPath ?? (isFile(own) ? own : null);
  return { weights, config: weights.config, tokenizerPath, origin: resolve(model) };
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

function builtinHint(model: string): string {
  return model.includes('/') || model.includes('\\') ? '' : ` (nor is it a built-in config: ${BUILTIN_CONFIG_NAMES.join(', ')})`;
}
