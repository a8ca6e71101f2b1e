// The Tekken tokenizer: tiktoken-exact byte-level BPE over a regex pre-split, with the special
// tokens of mistral_common's Tekkenizer ahead of the BPE ids (id = rank + numSpecialTokens).
import { readFileSync } from 'node:fs';
import { BytePairEncoder } from './bytePairEncoder.js';
import type { ImageConfig } from './imageConfig.js';
import { compilePreSplit, TEKKEN_PATTERN } from './preSplitPattern.js';
import { PieceCache } from './pieceCache.js';
import type { SpecialTokenInfo } from './specialTokens.js';
import { parseTekkenJson, TekkenFileError, type TekkenData, type TekkenVersion } from './tekkenFile.js';
import { splitTekken } from './tekkenSplitter.js';
import { isAscii, toWellFormed, utf8Binary } from './utf8.js';

/** What decoding does with special ids: ignore, keep their text, or raise. */
export type SpecialTokenPolicy = 'ignore' | 'keep' | 'raise';

/** Options of encode: BOS and EOS. */
export interface EncodeOptions {
  /** Prepend `<s>` (default false). */
  bos?: boolean;
  /** Append `</s>` (default false). */
  eos?: boolean;
}

/** Options of decode: what to do with special tokens. */
export interface DecodeOptions {
  /** What to do with special ids: skip them (default), write their token_str, or throw. */
  specialTokenPolicy?: SpecialTokenPolicy;
}

/** Options of the Tekkenizer (piece cache). */
export interface TekkenizerOptions {
  /** Memoise the ids of short pieces (default true). Only speed changes, never the ids. */
  pieceCache?: boolean;
}

/** Thrown for ids outside [0, vocabSize) or special ids under the 'raise' policy. */
export class TokenIdError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'TokenIdError';
  }
}

/** Mistral's Tekken tokenizer (tiktoken-style BPE with special tokens), ids identical to mistral_common's. */
export class Tekkenizer {
  readonly version: TekkenVersion;
  readonly vocabSize: number;
  readonly numSpecialTokens: number;
  readonly imageConfig: ImageConfig | null;
  readonly pattern: string;
  readonly source: string;
  readonly specialTokens: readonly SpecialTokenInfo[];

  private readonly bpe: BytePairEncoder;
  private readonly specialIdByName = new Map<string, number>();
  // Bytes of every BPE token, back to back: token r is flatBytes[offsets[r] .. offsets[r + 1]).
  private readonly flatBytes: Uint8Array;
  private readonly offsets: Uint32Array;
  private readonly regex: RegExp | null;
  private readonly cache: PieceCache | null;
  private readonly utf8 = new TextDecoder('utf-8');

  /** Reads a tekken.json file. */
  static fromFile(path: string, options?: TekkenizerOptions): Tekkenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new TekkenFileError(path, `cannot read file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (err) {
      throw new TekkenFileError(path, `not valid JSON (${(err as Error).message})`);
    }
    return Tekkenizer.fromJSON(obj, path, options);
  }

  /** Builds the tokenizer from a parsed tekken.json object; `sourceName` names it in errors. */
  static fromJSON(obj: unknown, sourceName = '<tekken.json>', options?: TekkenizerOptions): Tekkenizer {
    return new Tekkenizer(parseTekkenJson(obj, sourceName), options);
  }

  constructor(data: TekkenData, options: TekkenizerOptions = {}) {
    this.version = data.version;
    this.vocabSize = data.vocabSize;
    this.numSpecialTokens = data.numSpecialTokens;
    this.imageConfig = data.imageConfig;
    this.pattern = data.pattern;
    this.source = data.source;
    this.specialTokens = data.specialTokens;
    for (const t of data.specialTokens) this.specialIdByName.set(t.tokenStr, t.rank);
    this.bpe = new BytePairEncoder(data.tokenBytes);
    let total = 0;
    for (const b of data.tokenBytes) total += b.length;
    this.flatBytes = new Uint8Array(total);
    this.offsets = new Uint32Array(data.tokenBytes.length + 1);
    let at = 0;
    data.tokenBytes.forEach((b, r) => {
      this.offsets[r] = at;
      this.flatBytes.set(b, at);
      at += b.length;
    });
    this.offsets[data.tokenBytes.length] = at;
    // The known Tekken pattern has a hand-written splitter; any other pattern goes through RegExp.
    if (data.pattern === TEKKEN_PATTERN) {
      this.regex = null;
    } else {
      try {
        this.regex = compilePreSplit(data.pattern);
      } catch (err) {
        throw new TekkenFileError(data.source, `"config.pattern" does not compile (${(err as Error).message})`);
      }
    }
    this.cache = options.pieceCache === false ? null : new PieceCache();
  }

  /** Id of a special token by its string, e.g. specialId('[INST]'); throws if this file has none. */
  specialId(tokenStr: string): number {
    const id = this.specialIdByName.get(tokenStr);
    if (id === undefined) throw new Error(`${this.source}: no special token ${tokenStr}`);
    return id;
  }

  get bosId(): number { return this.specialId('<s>'); }
  get eosId(): number { return this.specialId('</s>'); }
  get unkId(): number { return this.specialId('<unk>'); }
  get padId(): number { return this.specialId('<pad>'); }
  get instId(): number { return this.specialId('[INST]'); }
  get instEndId(): number { return this.specialId('[/INST]'); }
  get systemPromptId(): number { return this.specialId('[SYSTEM_PROMPT]'); }
  get systemPromptEndId(): number { return this.specialId('[/SYSTEM_PROMPT]'); }
  get imgId(): number { return this.specialId('[IMG]'); }
  get imgBreakId(): number { return this.specialId('[IMG_BREAK]'); }
  get imgEndId(): number { return this.specialId('[IMG_END]'); }

  /** Whether an id is a special (control) token. */
  isSpecial(id: number): boolean {
    return id >= 0 && id < this.numSpecialTokens;
  }

  /** Token ids of `text`. Text that spells a special token ("[INST]", "<s>") is encoded as plain text. */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    if (options.bos) out.push(this.bosId);
    this.encodeInto(text, out);
    if (options.eos) out.push(this.eosId);
    return out;
  }

  /** Appends the ids of `text` (no BOS/EOS) to `out`. */
  encodeInto(text: string, out: number[]): void {
    // Lone surrogates become U+FFFD first, as tiktoken's Python binding does before splitting.
    const s = toWellFormed(text);
    if (this.regex === null) {
      splitTekken(s, (start, end) => this.encodePiece(s, start, end, out));
    } else {
      const re = this.regex;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(s)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        this.encodePiece(s, m.index, m.index + m[0].length, out);
      }
    }
  }

  /** Appends the ids of the piece s[start..end). */
  private encodePiece(s: string, start: number, end: number, out: number[]): void {
    const cache = this.cache;
    let slot = 0;
    if (cache !== null) {
      slot = PieceCache.slot(s, start, end);
      const hit = cache.get(s, start, end, slot);
      if (hit !== undefined) {
        if (typeof hit === 'number') out.push(hit);
        else for (let i = 0; i < hit.length; i++) out.push(hit[i]);
        return;
      }
    }
    const piece = s.substring(start, end);
    const binary = isAscii(piece) ? piece : utf8Binary(piece);
    const from = out.length;
    this.bpe.encode(binary, this.numSpecialTokens, out);
    if (cache !== null) cache.set(piece, slot, out, from);
  }

  /** Text of `ids`; runs of BPE ids are UTF-8 decoded with replacement, as mistral_common does. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const policy = options.specialTokenPolicy ?? 'ignore';
    let text = '';
    let runStart = 0; // first id of the current run of BPE ids
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      this.checkId(id, i);
      if (!this.isSpecial(id)) continue;
      text += this.decodeRun(ids, runStart, i) + this.specialText(id, policy);
      runStart = i + 1;
    }
    return text + this.decodeRun(ids, runStart, ids.length);
  }

  private decodeRun(ids: ArrayLike<number>, from: number, to: number): string {
    return to > from ? this.utf8.decode(this.bytesOf(ids, from, to)) : '';
  }

  /** The text of one id, special tokens as their token_str (mistral_common's id_to_piece). */
  idToPiece(id: number): string {
    return this.decode([id], { specialTokenPolicy: 'keep' });
  }

  /** Raw bytes of a BPE id (empty for a special id). */
  idToBytes(id: number): Uint8Array {
    this.checkId(id, 0);
    if (this.isSpecial(id)) return new Uint8Array(0);
    const r = id - this.numSpecialTokens;
    return this.flatBytes.subarray(this.offsets[r], this.offsets[r + 1]);
  }

  /** What a special id contributes to text under `policy`. */
  specialText(id: number, policy: SpecialTokenPolicy): string {
    if (policy === 'keep') return this.specialTokens[id].tokenStr;
    if (policy === 'raise') {
      throw new TokenIdError(`cannot decode special token id ${id} (${this.specialTokens[id].tokenStr}) under the 'raise' policy`);
    }
    return '';
  }

  /** Throws naming the position when an id is outside the vocabulary. */
  checkId(id: number, position: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new TokenIdError(`token id ${id} at position ${position} is out of range [0, ${this.vocabSize})`);
    }
  }

  private bytesOf(ids: ArrayLike<number>, from: number, to: number): Uint8Array {
    const off = this.offsets;
    const ns = this.numSpecialTokens;
    let n = 0;
    for (let i = from; i < to; i++) n += off[ids[i] - ns + 1] - off[ids[i] - ns];
    const buf = new Uint8Array(n);
    let at = 0;
    for (let i = from; i < to; i++) {
      const r = ids[i] - ns;
      buf.set(this.flatBytes.subarray(off[r], off[r + 1]), at);
      at += off[r + 1] - off[r];
    }
    return buf;
  }
}
