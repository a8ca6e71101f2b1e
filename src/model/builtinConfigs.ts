// Model configs shipped in the package (assets/configs/<name>/), for running a model without its
// checkpoint (`--load-format dummy`): the published config.json and params.json of each model.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointError } from './checkpointError.js';
import type { ModelConfig } from './config.js';
import { parseHfConfig, parseMistralParams, readJsonFile, type ParsedConfig } from './configLoader.js';

/** assets/configs in the package (dist/src/model/ -> package root). */
export const BUILTIN_CONFIGS_DIR = fileURLToPath(new URL('../../../assets/configs', import.meta.url));

/** Mistral Small 3.1 (24B, 2503): docs/model.md#dimensions. */
export const MISTRAL_SMALL_3_1 = 'mistral-small-3.1-24b';
/** Model configs shipped in the package (for `--load-format dummy` without a directory). */
export const BUILTIN_CONFIG_NAMES: readonly string[] = [MISTRAL_SMALL_3_1];

export function isBuiltinConfigName(name: string): boolean {
  return BUILTIN_CONFIG_NAMES.includes(name);
}

/** The folder holding the built-in model's config.json and params.json. */
export function builtinConfigDir(name: string): string {
  if (!isBuiltinConfigName(name)) {
    throw new CheckpointError(`unknown built-in model config "${name}" (built-in: ${BUILTIN_CONFIG_NAMES.join(', ')})`);
  }
  return join(BUILTIN_CONFIGS_DIR, name);
}

/**
 * Reads a model's config without weights: `params.json` (Mistral layout) when the folder has one
 * and `layout` does not say otherwise, else `config.json` (HF layout).
 */
export async function readConfigDir(dir: string, layout?: 'hf' | 'mistral'): Promise<{ parsed: ParsedConfig; configPath: string }> {
  const params = join(dir, 'params.json');
  const hf = join(dir, 'config.json');
  const useMistral = layout === 'mistral' || (layout === undefined && existsSync(params));
  const configPath = useMistral ? params : hf;
  if (!existsSync(configPath)) {
    throw new CheckpointError(
      layout === undefined
        ? `${dir} is not a model directory: it holds neither config.json (HF layout) nor params.json (Mistral layout)`
        : `${dir} has no ${useMistral ? 'params.json' : 'config.json'}`,
    );
  }
  const json = await readJsonFile(configPath);
  const parsed = useMistral ? parseMistralParams(json, configPath) : parseHfConfig(json, configPath);
  return { parsed, configPath };
}

/** A ModelConfig whose dtype is what the config file declares (bf16 when it says nothing). */
export function withDeclaredDtype(parsed: ParsedConfig): ModelConfig {
  const { declaredDtype, ...rest } = parsed;
  return { ...rest, dtype: declaredDtype ?? 'bf16' };
}

/**
 * A built-in model's config. The HF config.json is the default: its max_position_embeddings
 * (131072) is the model's full window, where params.json says nothing and vLLM then assumes 128000.
 */
export async function loadBuiltinConfig(name: string, layout: 'hf' | 'mistral' = 'hf'): Promise<ModelConfig> {
  const { parsed } = await readConfigDir(builtinConfigDir(name), layout);
  return withDeclaredDtype(parsed);
}
