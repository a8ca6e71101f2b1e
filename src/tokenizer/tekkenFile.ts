// Reads and validates a tekken.json (versions v3, v7, v11, v13) into plain typed data.
import type { ImageConfig } from './imageConfig.js';
import { completeSpecialTokens, defaultSpecialTokens, type SpecialTokenInfo } from './specialTokens.js';

/** The tekken.json versions understood. */
export const TEKKEN_VERSIONS = ['v3', 'v7', 'v11', 'v13'] as const;
/** A tekken.json version. */
export type TekkenVersion = (typeof TEKKEN_VERSIONS)[number];

/** A tekken.json that cannot be used; the message names the file and the problem. */
export class TekkenFileError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'TekkenFileError';
  }
}

/** A parsed tekken.json: version, pattern, vocabulary, special tokens. */
export interface TekkenData {
  readonly source: string;
  readonly version: TekkenVersion;
  readonly pattern: string;
  /** Total ids: special tokens + BPE tokens (default_vocab_size). */
  readonly vocabSize: number;
  readonly numSpecialTokens: number;
  /** Bytes of BPE rank r (id r + numSpecialTokens); length vocabSize - numSpecialTokens. */
  readonly tokenBytes: readonly Uint8Array[];
  /** Exactly numSpecialTokens entries, rank = index. */
  readonly specialTokens: readonly SpecialTokenInfo[];
  readonly imageConfig: ImageConfig | null;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function versionIndex(v: TekkenVersion): number {
  return TEKKEN_VERSIONS.indexOf(v);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseTekkenJson(obj: unknown, source = '<tekken.json>'): TekkenData {
  const fail = (problem: string): never => {
    throw new TekkenFileError(source, problem);
  };
  if (!isObject(obj)) fail('not a JSON object');
  const root = obj as Json;
  const config = root.config;
  if (!isObject(config)) fail('missing field "config"');
  const cfg = config as Json;

  const intField = (name: string, min: number): number => {
    const v = cfg[name];
    if (v === undefined) fail(`missing field "config.${name}"`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`"config.${name}" must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  };
  const pattern = cfg.pattern;
  if (pattern === undefined) fail('missing field "config.pattern"');
  if (typeof pattern !== 'string' || pattern.length === 0) fail('"config.pattern" must be a non-empty string');
  const versionRaw = cfg.version;
  if (versionRaw === undefined) fail('missing field "config.version"');
  if (!(TEKKEN_VERSIONS as readonly unknown[]).includes(versionRaw)) {
    fail(`unsupported version ${JSON.stringify(versionRaw)} in "config.version" (expected one of ${TEKKEN_VERSIONS.join(', ')})`);
  }
  const version = versionRaw as TekkenVersion;
  const vocabSize = intField('default_vocab_size', 1);
  const numSpecialTokens = intField('default_num_special_tokens', 0);
  if (cfg.num_vocab_tokens !== undefined) intField('num_vocab_tokens', 0);
  if (numSpecialTokens >= vocabSize) {
    fail(`"config.default_num_special_tokens" (${numSpecialTokens}) must be below "config.default_vocab_size" (${vocabSize})`);
  }

  const tokenBytes = readVocab(root.vocab, vocabSize - numSpecialTokens, fail);
  const specialTokens = readSpecialTokens(root.special_tokens, version, numSpecialTokens, fail);
  const imageConfig = readImageConfig(root, version, fail);
  return { source, version, pattern: pattern as string, vocabSize, numSpecialTokens, tokenBytes, specialTokens, imageConfig };
}

function readVocab(vocab: unknown, innerSize: number, fail: (p: string) => never): Uint8Array[] {
  if (vocab === undefined) fail('missing field "vocab"');
  if (!Array.isArray(vocab)) fail('"vocab" must be an array');
  const entries = vocab as unknown[];
  if (entries.length < innerSize) {
    fail(`"vocab" has ${entries.length} entries but default_vocab_size - default_num_special_tokens = ${innerSize} are needed`);
  }
  const out: Uint8Array[] = new Array(innerSize);
  const seen = new Set<string>();
  for (let i = 0; i < innerSize; i++) {
    const e = entries[i];
    if (!isObject(e)) fail(`vocab[${i}] is not an object`);
    const { rank, token_bytes: b64 } = e as Json;
    if (rank === undefined) fail(`vocab[${i}] has no "rank"`);
    if (rank !== i) fail(`rank out of order: vocab[${i}] has rank ${JSON.stringify(rank)}, expected ${i}`);
    if (typeof b64 !== 'string') fail(`vocab[${i}] (rank ${i}) has no string "token_bytes"`);
    if (!BASE64.test(b64 as string)) fail(`vocab[${i}] (rank ${i}) has invalid base64 token_bytes ${JSON.stringify(b64)}`);
    const bytes = new Uint8Array(Buffer.from(b64 as string, 'base64'));
    if (bytes.length === 0) fail(`vocab[${i}] (rank ${i}) has empty token_bytes`);
    if (i < 256 && (bytes.length !== 1 || bytes[0] !== i)) fail(`vocab[${i}] must be the single byte ${i} (the first 256 ranks are the bytes)`);
    if (seen.has(b64 as string)) fail(`vocab[${i}] (rank ${i}) repeats the token_bytes of an earlier rank`);
    seen.add(b64 as string);
    out[i] = bytes;
  }
  return out;
}

function readSpecialTokens(
  raw: unknown,
  version: TekkenVersion,
  numSpecialTokens: number,
  fail: (p: string) => never,
): SpecialTokenInfo[] {
  let defined: SpecialTokenInfo[];
  if (raw === undefined || raw === null) {
    if (versionIndex(version) > versionIndex('v7')) fail(`missing field "special_tokens" (required for version ${version})`);
    defined = defaultSpecialTokens();
  } else {
    if (!Array.isArray(raw)) fail('"special_tokens" must be an array');
    defined = (raw as unknown[]).map((e, i) => {
      if (!isObject(e)) fail(`special_tokens[${i}] is not an object`);
      const { rank, token_str: tokenStr, is_control: isControl } = e as Json;
      if (rank !== i) fail(`rank out of order: special_tokens[${i}] has rank ${JSON.stringify(rank)}, expected ${i}`);
      if (typeof tokenStr !== 'string' || tokenStr.length === 0) fail(`special_tokens[${i}] has no string "token_str"`);
      if (isControl !== undefined && typeof isControl !== 'boolean') fail(`special_tokens[${i}].is_control must be a boolean`);
      return { rank: i, tokenStr: tokenStr as string, isControl: isControl !== false };
    });
  }
  if (defined.length > numSpecialTokens) {
    fail(`"special_tokens" has ${defined.length} entries, more than default_num_special_tokens (${numSpecialTokens})`);
  }
  const all = completeSpecialTokens(defined, numSpecialTokens);
  const names = new Set<string>();
  for (const t of all) {
    if (names.has(t.tokenStr)) fail(`special token ${JSON.stringify(t.tokenStr)} appears twice`);
    names.add(t.tokenStr);
  }
  for (const required of ['<s>', '</s>']) {
    if (numSpecialTokens > 0 && !names.has(required)) fail(`special token ${required} is missing`);
  }
  return all;
}

function readImageConfig(root: Json, version: TekkenVersion, fail: (p: string) => never): ImageConfig | null {
  let block: unknown;
  let name: string;
  if (root.multimodal !== undefined && root.multimodal !== null) {
    if (versionIndex(version) > versionIndex('v11')) fail(`the image config must be called "image", not "multimodal", for version ${version}`);
    block = root.multimodal;
    name = 'multimodal';
  } else if (root.image !== undefined && root.image !== null) {
    block = root.image;
    name = 'image';
  } else {
    return null;
  }
  if (!isObject(block)) fail(`"${name}" must be an object`);
  const b = block as Json;
  const positive = (field: string, fallback?: number): number => {
    const v = b[field] ?? fallback;
    if (v === undefined) fail(`missing field "${name}.${field}"`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`"${name}.${field}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v as number;
  };
  return {
    patchSize: positive('image_patch_size'),
    maxImageSize: positive('max_image_size'),
    // mistral_common's ImageConfig defaults spatial_merge_size to 1 (Pixtral-12B files omit it).
    spatialMergeSize: positive('spatial_merge_size', 1),
  };
}
