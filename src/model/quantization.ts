// What a checkpoint's quantization block says, normalised (configLoader.ts judges the block,
// quantizationConfig.ts parses it): which linear layers are stored as FP8 E4M3 and how their
// scales are laid out. The loader (checkpoint.ts, fp8Tensors.ts) checks the files against it
// before any weight byte is read.

/** How one FP8 linear layer is stored. */
export interface Fp8Scheme {
  /** 'channel': `weight_scale` [out, 1] (or [out]); 'tensor': one scale ([] or [1]). */
  readonly weights: 'channel' | 'tensor';
  /** 'static': a per-tensor `input_scale` beside the weight (validated, then not used: the
   *  engine quantizes activations per token, docs/quantization.md says why); 'dynamic': none. */
  readonly activations: 'dynamic' | 'static';
}

/** One compressed-tensors config group: the modules it targets and how they are stored. */
export interface Fp8Group {
  /** compressed-tensors targets: 'Linear' (every linear layer), exact module names, or
   *  're:<regex>' (matched from the start of the name, as Python's re.match). */
  readonly targets: readonly string[];
  readonly scheme: Fp8Scheme;
}

/** A checkpoint's FP8 quantization, normalised from either convention (config.json's
 *  compressed-tensors block or params.json's Mistral block). */
export interface Fp8Quantization {
  /** Whose convention: 'compressed-tensors' (HF config.json quantization_config, as RedHat
   *  publishes) or 'mistral' (params.json quantization: qformat_weight fp8_e4m3). */
  readonly method: 'compressed-tensors' | 'mistral';
  readonly groups: readonly Fp8Group[];
  /** Module names (on-disk names without `.weight`) or 're:' regexes that stay unquantized. */
  readonly ignore: readonly string[];
  /** Scale tensor suffixes in this convention. */
  readonly weightScaleSuffix: string; // '.weight_scale' | '.qscale_weight'
  readonly inputScaleSuffix: string; // '.input_scale' | '.qscale_act'
  /** "<file>: field <key>", for messages. */
  readonly declaredIn: string;
}

/** Python re.match semantics: the pattern must match at the start of the name. */
function matches(name: string, target: string): boolean {
  if (target.startsWith('re:')) return new RegExp(`^(?:${target.slice(3)})`).test(name);
  return target === name;
}

/** The scheme linear module `module` (its on-disk name without `.weight`) is stored in, or
 *  null when it stays dense (ignored, or no group targets it). */
export function fp8SchemeOf(q: Fp8Quantization, module: string): Fp8Scheme | null {
  if (q.ignore.some((t) => matches(module, t))) return null;
  for (const g of q.groups) {
    if (g.targets.some((t) => t.toLowerCase() === 'linear' || matches(module, t))) return g.scheme;
  }
  return null;
}

/** A regex of a target or ignore entry, checked once when the config is read. */
export function checkPattern(entry: string): string | null {
  if (!entry.startsWith('re:')) return null;
  try {
    new RegExp(entry.slice(3));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
