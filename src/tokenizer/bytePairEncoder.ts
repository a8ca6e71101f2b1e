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

  /** Pieces longer than this many bytes merge through a heap (O(n log n)) instead of rescans (O(n^2)). */
  readonly heapThreshold: number;

  /** tokenBytes[r] are the bytes of rank r; ranks 0..255 must include every single byte. */
  constructor(tokenBytes: readonly Uint8Array[], options: { heapThreshold?: number } = {}) {
    this.heapThreshold = options.heapThreshold ?? 128;
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
    if (n > this.heapThreshold) {
      this.encodeLong(binary, idOffset, out);
      return;
    }
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

  /**
   * The same merges for long pieces: parts form a linked list keyed by their first byte, and
   * candidate pairs sit in a min-heap ordered by (rank, position), so the pair popped is the
   * lowest rank and, among equal ranks, the leftmost: tiktoken's choice. Entries made stale by an
   * earlier merge are recognised (their part is gone or its pair rank changed) and skipped.
   */
  private encodeLong(binary: string, idOffset: number, out: number[]): void {
    const n = binary.length;
    const partRank = new Int32Array(n); // token of the part starting at byte i (valid while alive)
    const next = new Int32Array(n); // start of the following part, n at the end
    const prev = new Int32Array(n); // start of the preceding part, -1 at the start
    const pairRank = new Int32Array(n); // rank of (part i + its next part), NO_RANK if none
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      partRank[i] = this.byteRank[binary.charCodeAt(i)];
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    const heap = new MinHeap(n);
    for (let i = 0; i + 1 < n; i++) {
      pairRank[i] = this.merged(partRank[i], partRank[i + 1]);
      if (pairRank[i] !== NO_RANK) heap.push(pairRank[i], i);
    }
    pairRank[n - 1] = NO_RANK;
    while (heap.size > 0) {
      const rank = heap.topRank();
      const i = heap.topPosition();
      heap.pop();
      if (alive[i] === 0 || pairRank[i] !== rank) continue;
      const j = next[i];
      partRank[i] = rank;
      alive[j] = 0;
      next[i] = next[j];
      if (next[j] < n) prev[next[j]] = i;
      pairRank[i] = next[i] < n ? this.merged(rank, partRank[next[i]]) : NO_RANK;
      if (pairRank[i] !== NO_RANK) heap.push(pairRank[i], i);
      const p = prev[i];
      if (p >= 0) {
        pairRank[p] = this.merged(partRank[p], rank);
        if (pairRank[p] !== NO_RANK) heap.push(pairRank[p], p);
      }
    }
    for (let i = 0; i < n; i = next[i]) out.push(partRank[i] + idOffset);
  }
}

/** Binary min-heap of (rank, position) pairs packed as rank * 2^32 + position in a Float64Array. */
class MinHeap {
  private keys: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(16, capacity));
  }

  push(rank: number, position: number): void {
    if (this.size === this.keys.length) {
      const grown = new Float64Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    const keys = this.keys;
    const key = rank * 4294967296 + position;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent] <= key) break;
      keys[i] = keys[parent];
      i = parent;
    }
    keys[i] = key;
  }

  topRank(): number {
    return Math.floor(this.keys[0] / 4294967296);
  }

  topPosition(): number {
    return this.keys[0] % 4294967296;
  }

  pop(): void {
    const keys = this.keys;
    const last = keys[--this.size];
    let i = 0;
    while (true) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= last) break;
      keys[i] = keys[child];
      i = child;
    }
    keys[i] = last;
  }
}
