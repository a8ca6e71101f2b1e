// Writes a tekken.json object (the format mistral_common reads) from BPE token bytes by rank.
import { TEKKEN_PATTERN } from './preSplitPattern.js';
import { completeSpecialTokens, defaultSpecialTokens } from './specialTokens.js';

export interface BuildTekkenOptions {
  /** Keep only the first `maxRanks` BPE ranks (>= 256); vocab size = maxRanks + numSpecialTokens. */
  maxRanks?: number;
  numSpecialTokens?: number;
  version?: 'v3' | 'v7' | 'v11' | 'v13';
  /** Write the `special_tokens` list (v7 names, then <SPECIAL_i> fillers); default true. */
  withSpecialTokens?: boolean;
  /** The `image` block; default Mistral Small 3.1's {14, 1540, 2}; null to omit. */
  image?: { image_patch_size: number; max_image_size: number; spatial_merge_size: number } | null;
}

export function buildTekkenJson(tokenBytes: readonly Uint8Array[], options: BuildTekkenOptions = {}): Record<string, unknown> {
  const numSpecial = options.numSpecialTokens ?? 1000;
  const count = options.maxRanks ?? tokenBytes.length;
  if (!Number.isInteger(count) || count < 256 || count > tokenBytes.length) {
    throw new Error(`maxRanks must be an integer in [256, ${tokenBytes.length}], got ${count}`);
  }
  const vocab = tokenBytes.slice(0, count).map((bytes, rank) => ({
    rank,
    token_bytes: Buffer.from(bytes).toString('base64'),
    token_str: decodeStrict(bytes),
  }));
  const out: Record<string, unknown> = {
    config: {
      pattern: TEKKEN_PATTERN,
      num_vocab_tokens: count,
      default_vocab_size: count + numSpecial,
      default_num_special_tokens: numSpecial,
      version: options.version ?? 'v7',
    },
    vocab,
  };
  if (options.withSpecialTokens !== false) {
    out.special_tokens = completeSpecialTokens(defaultSpecialTokens(), numSpecial).map((t) => ({
      rank: t.rank,
      token_str: t.tokenStr,
      is_control: t.isControl,
    }));
  }
  const image = options.image === undefined ? { image_patch_size: 14, max_image_size: 1540, spatial_merge_size: 2 } : options.image;
  if (image !== null) out.image = image;
  return out;
}

const strict = new TextDecoder('utf-8', { fatal: true });
function decodeStrict(bytes: Uint8Array): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}
