// Byte-level BPE exactly as tiktoken's `_byte_pair_merge`: start from single bytes, repeatedly
// merge the adjacent pair whose concatenated bytes have the lowest rank (leftmost on ties),
// until no adjacent pair is a token.
//
// Byte strings are held as "binary strings": one UTF-16 code unit per byte (0..255). For ASCII
// text the piece itself is already its binary string, so most lookups need no conversion.
// Every part is a token at all times, so "rank of the concatenated bytes of parts a and b" is a
// function of their two ranks: it is memoised in an integer hash table (PairTable).

const NO_RANK = 0x7fffffff;

export function bytesToBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** Open-addressing memo of (rankA, rankB) -> rank of their concatenation, or NO_RANK. */
class PairTable {
  private keysA: Int32Array;
  private keysB: Int32Array;
  private values: Int32Array;
  private mask: number;
  private size = 0;
  private static readonly MAX_ENTRIES = 1 << 22;

  constructor(bits = 16) {
    this.keysA = new Int32Array(1 << bits).fill(-1);
    this.keysB = new Int32Array(1 << bits);
    this.values = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
  }

  /** The memoised value, or -1 when (a, b) has not been seen. */
  get(a: number, b: number): number {
    let h = slot(a, b, this.mask);
    const keysA = this.keysA;
    while (true) {
      const k = keysA[h];
      if (k === -1) return -1;
      if (k === a && this.keysB[h] === b) return this.values[h];
      h = (h + 1) & this.mask;
    }
  }

  set(a: number, b: number, value: number): void {
    if (this.size >= PairTable.MAX_ENTRIES) return;
    if (2 * (this.size + 1) > this.keysA.length) this.grow();
    let h = slot(a, b, this.mask);
    while (this.keysA[h] !== -1) h = (h + 1) & this.mask;
    this.keysA[h] = a;
    this.keysB[h] = b;
    this.values[h] = value;
    this.size++;
  }

  private grow(): void {
    const { keysA, keysB, values } = this;
    this.keysA = new Int32Array(keysA.length * 2).fill(-1);
    this.keysB = new Int32Array(keysA.length * 2);
    this.values = new Int32Array(keysA.length * 2);
    this.mask = this.keysA.length - 1;
    this.size = 0;
    for (let i = 0; i < keysA.length; i++) if (keysA[i] !== -1) this.set(keysA[i], keysB[i], values[i]);
  }
}

function slot(a: number, b: number, mask: number): number {
  const h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
  return (h ^ (h >>> 16)) & mask;
}

export class BytePairEncoder {
  private readonly rankOf = new Map<string, number>();
  private readonly binaryOf: string[];
  private readonly byteRank = new Int32Array(256);
  private readonly pairs = new PairTable();
  // Scratch for the merge loop, grown on demand: the rank of each part, and of each part merged
  // with its right neighbour.
  private partRanks = new Int32Array(256);
  private pairRanks = new Int32Array(256);

  /** tokenBytes[r] are the bytes of rank r; ranks 0..255 must include every single byte. */
  constructor(tokenBytes: readonly Uint8Array[]) {
    this.binaryOf = tokenBytes.map(bytesToBinary);
    this.binaryOf.forEach((s, rank) => this.rankOf.set(s, rank));
    for (let b = 0; b < 256; b++) {
      const r = this.rankOf.get(String.fromCharCode(b));
      if (r === undefined) throw new Error(`the vocabulary has no token for byte ${b}`);
      this.byteRank[b] = r;
    }
  }

  /** The rank of the exact byte string, or undefined. */
  rank(binary: string): number | undefined {
    return this.rankOf.get(binary);
  }

  /** Rank of the concatenation of tokens a and b, or NO_RANK. */
  private merged(a: number, b: number): number {
    let r = this.pairs.get(a, b);
    if (r === -1) {
      r = this.rankOf.get(this.binaryOf[a] + this.binaryOf[b]) ?? NO_RANK;
      this.pairs.set(a, b, r);
    }
    return r;
  }

  /** Appends the ranks of `binary` (a non-empty binary string) plus `idOffset` to `out`. */
  encode(binary: string, idOffset: number, out: number[]): void {
    const whole = this.rankOf.get(binary);
    if (whole !== undefined) {
      out.push(whole + idOffset);
      return;
    }
    const n = binary.length;
    if (this.partRanks.length < n) {
      this.partRanks = new Int32Array(2 * n);
      this.pairRanks = new Int32Array(2 * n);
    }
    const partRanks = this.partRanks;
    const pairRanks = this.pairRanks;
    for (let i = 0; i < n; i++) partRanks[i] = this.byteRank[binary.charCodeAt(i)];
    let minRank = NO_RANK;
    let minAt = -1;
    for (let i = 0; i < n - 1; i++) {
      const r = this.merged(partRanks[i], partRanks[i + 1]);
      pairRanks[i] = r;
      if (r < minRank) {
        minRank = r;
        minAt = i;
      }
    }
    pairRanks[n - 1] = NO_RANK;
    let parts = n;
    while (minRank !== NO_RANK) {
      const i = minAt;
      // Part i absorbs part i+1 and becomes token minRank.
      partRanks[i] = minRank;
      partRanks.copyWithin(i + 1, i + 2, parts);
      pairRanks.copyWithin(i + 1, i + 2, parts);
      parts--;
      if (i > 0) pairRanks[i - 1] = this.merged(partRanks[i - 1], minRank);
      pairRanks[i] = i + 1 < parts ? this.merged(minRank, partRanks[i + 1]) : NO_RANK;
      minRank = NO_RANK;
      for (let j = 0; j < parts - 1; j++) {
        const r = pairRanks[j];
        if (r < minRank) {
          minRank = r;
          minAt = j;
        }
      }
    }
    for (let p = 0; p < parts; p++) out.push(partRanks[p] + idOffset);
  }
}
