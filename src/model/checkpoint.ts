// Opens a model directory as users have it on disk, in either layout of docs/model.md#checkpoint-formats, and
// presents it as a WeightSource over canonical names (src/model/weights.ts):
//   Mistral: params.json + consolidated*.safetensors (+ tekken.json)
//   HF:      config.json + model.safetensors.index.json and its shards, or one model.safetensors
// A directory holding both is read as the Mistral layout (what Mistral's model card runs vLLM
// with: --config-format mistral --load-format mistral --tokenizer-mode mistral); pass
// `layout: 'hf'` to read the HF files instead. Every tensor's name, dtype and shape is checked
// against the config when the checkpoint is opened; tensor bytes are read only on get().
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from './checkpointError.js';
import type { ModelConfig } from './config.js';
import { parseHfConfig, parseMistralParams, readJsonFile, type ParsedConfig } from './configLoader.js';
import { mistralToHfRows } from './ropePermute.js';
import { readableDType, SafetensorsFile } from './safetensorsFile.js';
import { canonicalFromHf, canonicalFromMistral, expectedShapes, ropeHeads, splitScaleName } from './weightNames.js';
import type { Fp8HostWeight, HostTensor } from './weights.js';
import { checkFp8Layout, readFp8, type FoundScales, type Fp8Located, type Located } from './fp8Tensors.js';
import type { Fp8Quantization } from './quantization.js';
import { checkFusedDtypes } from './checkpointValidation.js';
import type { LocatedWeightSource, TensorLocation } from './tensorLocation.js';

/** The two on-disk layouts: Hugging Face (config.json) and Mistral (params.json, consolidated.safetensors). */
export type CheckpointLayout = 'hf' | 'mistral';

/** Options of openCheckpoint (another tokenizer file). */
export interface OpenCheckpointOptions {
  /** A tekken.json to use instead of the directory's own. */
  readonly tokenizerPath?: string;
  /** Read this layout even when the directory holds both. */
  readonly layout?: CheckpointLayout;
}

/** An opened checkpoint directory: its layout, config file, weights and tokenizer file. */
export interface Checkpoint {
  readonly dir: string;
  readonly layout: CheckpointLayout;
  /** The config file the ModelConfig came from. */
  readonly configPath: string;
  readonly weights: LocatedWeightSource;
  /** options.tokenizerPath, else `<dir>/tekken.json` when present, else null. */
  readonly tokenizerPath: string | null;
}

/** Opens a checkpoint directory in either layout (Hugging Face or Mistral) as one WeightSource with its config and tokenizer. */
export async function openCheckpoint(dir: string, options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  const files = await listDir(dir);
  const layout = chooseLayout(dir, files, options.layout);
  const configPath = join(dir, layout === 'mistral' ? 'params.json' : 'config.json');
  const json = await readJsonFile(configPath);
  const parsed = layout === 'mistral' ? parseMistralParams(json, configPath) : parseHfConfig(json, configPath);
  const tokenizerPath = await findTokenizer(dir, files, options.tokenizerPath);
  const weightFiles = layout === 'mistral' ? mistralWeightFiles(dir, files) : await hfWeightFiles(dir, files);
  const opened: SafetensorsFile[] = [];
  try {
    for (const path of weightFiles.paths) opened.push(await SafetensorsFile.open(path));
    await weightFiles.check?.(opened);
    const textOnly = parsed.vision === null;
    const toCanonical = layout === 'mistral' ? canonicalFromMistral : (n: string) => canonicalFromHf(n, textOnly);
    const { located, scales } = locate(opened, toCanonical, parsed.quantization ?? null);
    const config = withDtype(parsed, located, dir);
    // Tied: the output projection is the embedding table; a saved lm_head is not read (transformers
    // overwrites it with the embeddings when it ties them).
    if (config.text.tiedEmbeddings) located.delete('output');
    checkAgainstConfig(config, located, configPath);
    // Shapes known good: now FP8 data and scales against the quantization config.
    const fp8 = checkFp8Layout(config.quantization ?? null, located, scales, configPath);
    checkFusedDtypes(config, (c) => {
      const at = located.get(c);
      return at && { diskName: at.diskName, path: at.file.path, dtype: at.file.entry(at.diskName).dtype };
    });
    const weights = new CheckpointWeights(config, located, fp8, layout === 'mistral', dir, opened);
    return { dir, layout, configPath, weights, tokenizerPath };
  } catch (e) {
    await Promise.all(opened.map((f) => f.close()));
    throw e;
  }
}

async function listDir(dir: string): Promise<Set<string>> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new CheckpointError(`model directory ${dir} does not exist`);
  }
  if (!info.isDirectory()) throw new CheckpointError(`model path ${dir} is not a directory`);
  return new Set(await readdir(dir));
}

function consolidatedFiles(files: Set<string>): string[] {
  return [...files].filter((f) => /^consolidated.*\.safetensors$/.test(f)).sort();
}

function chooseLayout(dir: string, files: Set<string>, wanted: CheckpointLayout | undefined): CheckpointLayout {
  const mistral = files.has('params.json') && consolidatedFiles(files).length > 0;
  const hf = files.has('config.json');
  if (wanted === 'mistral' && !mistral) throw new CheckpointError(`${dir} has no Mistral-layout checkpoint (params.json and consolidated.safetensors)`);
  if (wanted === 'hf' && !hf) throw new CheckpointError(`${dir} has no HF-layout checkpoint (config.json)`);
  if (wanted) return wanted;
  if (mistral) return 'mistral';
  if (hf) return 'hf';
  if (files.has('params.json')) throw new CheckpointError(`${dir} has params.json but no consolidated.safetensors (and no config.json)`);
  throw new CheckpointError(`${dir} is not a model directory: it holds neither config.json (HF layout) nor params.json (Mistral layout)`);
}

async function findTokenizer(dir: string, files: Set<string>, explicit: string | undefined): Promise<string | null> {
  if (explicit !== undefined) {
    const ok = await stat(explicit).then((s) => s.isFile(), () => false);
    if (!ok) throw new CheckpointError(`tokenizer file ${explicit} does not exist`);
    return explicit;
  }
  return files.has('tekken.json') ? join(dir, 'tekken.json') : null;
}

interface WeightFiles {
  readonly paths: string[];
  /** Cross-checks after opening (the HF index against the shards' headers). */
  readonly check?: (opened: SafetensorsFile[]) => void | Promise<void>;
}

function mistralWeightFiles(dir: string, files: Set<string>): WeightFiles {
  return { paths: consolidatedFiles(files).map((f) => join(dir, f)) };
}

async function hfWeightFiles(dir: string, files: Set<string>): Promise<WeightFiles> {
  const indexName = 'model.safetensors.index.json';
  if (files.has(indexName)) {
    const indexPath = join(dir, indexName);
    const index = await readJsonFile(indexPath);
    const map = index.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new CheckpointError(`${indexPath}: field weight_map must be an object`);
    const weightMap = map as Record<string, unknown>;
    const byShard = new Map<string, string[]>();
    for (const [tensor, shard] of Object.entries(weightMap)) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) throw new CheckpointError(`${indexPath}: bad shard file name ${JSON.stringify(shard)} for tensor ${tensor}`);
      if (!byShard.has(shard)) byShard.set(shard, []);
      byShard.get(shard)!.push(tensor);
    }
    for (const [shard, tensors] of byShard) {
      if (!files.has(shard)) {
        throw new CheckpointError(`missing shard ${join(dir, shard)}: ${indexPath} places ${tensors.length} tensors there (${tensors[0]}${tensors.length > 1 ? ', ...' : ''})`);
      }
    }
    const shards = [...byShard.keys()].sort();
    return {
      paths: shards.map((s) => join(dir, s)),
      check: (opened) => {
        opened.forEach((file, i) => {
          for (const tensor of byShard.get(shards[i])!) {
            if (!file.has(tensor)) throw new CheckpointError(`missing tensor ${tensor}: ${indexPath} places it in ${file.path}, which does not hold it`);
          }
        });
      },
    };
  }
  if (files.has('model.safetensors')) return { paths: [join(dir, 'model.safetensors')] };
  const shards = [...files].filter((f) => f.endsWith('.safetensors'));
  if (shards.length > 0) throw new CheckpointError(`${dir} has ${shards.length} .safetensors files but no ${indexName} to say which tensors they hold`);
  throw new CheckpointError(`${dir} has config.json but no weights (model.safetensors or ${indexName})`);
}

/** Every tensor by canonical name, and the quantization scales (when the config declares a
 *  quantization) by the canonical name of the weight they scale. */
function locate(
  opened: SafetensorsFile[],
  toCanonical: (name: string) => string | null,
  quant: Fp8Quantization | null,
): { located: Map<string, Located>; scales: Map<string, FoundScales> } {
  const located = new Map<string, Located>();
  const scales = new Map<string, FoundScales>();
  for (const file of opened) {
    for (const diskName of file.names()) {
      const scale = quant && splitScaleName(diskName, quant.weightScaleSuffix, quant.inputScaleSuffix);
      if (scale) {
        const owner = toCanonical(scale.weightName);
        if (owner === null) throw new CheckpointError(`unexpected tensor ${diskName} in ${file.path}: it scales ${scale.weightName}, which is not part of the Mistral 3 architecture this engine runs`);
        const found = scales.get(owner) ?? {};
        const prev = found[scale.role];
        if (prev) throw new CheckpointError(`scale of ${owner} appears twice: ${prev.diskName} in ${prev.file.path} and ${diskName} in ${file.path}`);
        found[scale.role] = { file, diskName };
        scales.set(owner, found);
        continue;
      }
      const canonical = toCanonical(diskName);
      if (canonical === null) throw new CheckpointError(`unexpected tensor ${diskName} in ${file.path}: it is not part of the Mistral 3 architecture this engine runs`);
      const prev = located.get(canonical);
      if (prev) throw new CheckpointError(`weight ${canonical} appears twice: ${prev.diskName} in ${prev.file.path} and ${diskName} in ${file.path}`);
      readableDType(file.entry(diskName).dtype, diskName, file.path);
      located.set(canonical, { file, diskName });
    }
  }
  return { located, scales };
}

/** The weights' own dtype (that of the token embeddings) is the checkpoint's dtype. */
function withDtype(parsed: ParsedConfig, located: Map<string, Located>, dir: string): ModelConfig {
  const emb = located.get('tok_embeddings');
  if (!emb) throw new CheckpointError(`checkpoint ${dir} has no token embeddings (tok_embeddings / embed_tokens)`);
  const dtype = readableDType(emb.file.entry(emb.diskName).dtype, emb.diskName, emb.file.path);
  if (dtype === 'f8_e4m3') throw new CheckpointError(`tensor ${emb.diskName} in ${emb.file.path} is F8_E4M3 (FP8): the token embeddings must be dense (BF16, F16 or F32)`);
  const { declaredDtype: _declared, ...rest } = parsed;
  return { ...rest, dtype };
}

function checkAgainstConfig(config: ModelConfig, located: Map<string, Located>, configPath: string): void {
  const expected = expectedShapes(config);
  for (const [canonical, shape] of expected) {
    const at = located.get(canonical);
    if (!at) throw new CheckpointError(`missing tensor ${canonical}: ${configPath} describes a model that needs it, and no weight file holds it`);
    const got = at.file.entry(at.diskName).shape;
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(`tensor ${at.diskName} in ${at.file.path} has shape [${got.join(', ')}] but ${configPath} implies [${shape.join(', ')}]`);
    }
  }
  for (const [canonical, at] of located) {
    if (!expected.has(canonical)) {
      throw new CheckpointError(`unexpected tensor ${at.diskName} in ${at.file.path}: ${configPath} describes no such weight (${canonical})`);
    }
  }
}

class CheckpointWeights implements LocatedWeightSource {
  readonly fp8Weights: ReadonlySet<string>;

  constructor(
    readonly config: ModelConfig,
    private readonly located: ReadonlyMap<string, Located>,
    private readonly fp8: ReadonlyMap<string, Fp8Located>,
    private readonly permuteRope: boolean,
    private readonly dir: string,
    private readonly files: readonly SafetensorsFile[],
  ) {
    this.fp8Weights = new Set(fp8.keys());
  }

  names(): readonly string[] {
    return [...this.located.keys()];
  }

  has(name: string): boolean {
    return this.located.has(name);
  }

  async get(name: string): Promise<HostTensor> {
    const at = this.located.get(name);
    if (!at) throw new CheckpointError(`no weight ${name} in checkpoint ${this.dir}`);
    if (this.fp8.has(name)) throw new CheckpointError(`weight ${name} in checkpoint ${this.dir} is FP8: read it with getFp8 (data and scales)`);
    const raw = await at.file.read(at.diskName);
    const heads = this.permuteRope ? ropeHeads(name, this.config) : null;
    const data = heads === null ? raw.data : mistralToHfRows(raw.data, raw.shape[0], heads);
    return { name, dtype: raw.dtype, shape: raw.shape, data };
  }

  async getFp8(name: string): Promise<Fp8HostWeight> {
    const at = this.located.get(name);
    const fp8 = this.fp8.get(name);
    if (!at || !fp8) throw new CheckpointError(`no FP8 weight ${name} in checkpoint ${this.dir}`);
    return readFp8(name, at, fp8, this.permuteRope ? ropeHeads(name, this.config) : null);
  }

  locate(name: string): TensorLocation {
    const at = this.located.get(name);
    if (!at) throw new CheckpointError(`no weight ${name} in checkpoint ${this.dir}`);
    if (this.fp8.has(name)) throw new CheckpointError(`weight ${name} in checkpoint ${this.dir} is FP8: it is read with getFp8, not streamed`);
    const e = at.file.entry(at.diskName);
    return {
      path: at.file.path,
      offset: e.offset,
      byteLength: e.byteLength,
      dtype: readableDType(e.dtype, at.diskName, at.file.path),
      shape: e.shape,
      ropeHeads: this.permuteRope ? ropeHeads(name, this.config) : null,
    };
  }

  /** Total bytes read from the weight files so far (headers included). */
  bytesRead(): number {
    return this.files.reduce((a, f) => a + f.bytesRead, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}
