// Byte-level BPE exactly as tiktoken's `_byte_pair_merge`: start from single bytes, repeatedly
// merge the adjacent pair whose concatenated bytes have the lowest rank (leftmost on ties),
// until no adjacent pair is a token.
//
// Byte strings are held as "binary strings": one UTF-16 code unit per byte (0..255). For ASCII
// text the piece itself is already its binary string, so most lookups need no conversion.

const NO_RANK = 0x7fffffff;

export function bytesToBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

export class BytePairEncoder {
  private readonly rankOf = new Map<string, number>();
  // Scratch for the merge loop, grown on demand: part start offsets and the rank of each
  // part merged with its right neighbour.
  private starts = new Int32Array(256);
  private pairRanks = new Int32Array(256);

  constructor(tokenBytes: readonly Uint8Array[]) {
    for (let rank = 0; rank < tokenBytes.length; rank++) this.rankOf.set(bytesToBinary(tokenBytes[rank]), rank);
  }

  /** The rank of the exact byte string, or undefined. */
  rank(binary: string): number | undefined {
    return this.rankOf.get(binary);
  }

  /** Appends the ranks of `binary` (a non-empty binary string) plus `idOffset` to `out`. */
  encode(binary: string, idOffset: number, out: number[]): void {
    const whole = this.rankOf.get(binary);
    if (whole !== undefined) {
      out.push(whole + idOffset);
      return;
    }
    const n = binary.length;
    if (this.starts.length < n + 1) {
      this.starts = new Int32Array(2 * n + 2);
      this.pairRanks = new Int32Array(2 * n + 2);
    }
    const starts = this.starts;
    const pairRanks = this.pairRanks;
    const ranks = this.rankOf;
    // parts = n single bytes, plus a sentinel start at n.
    let parts = n;
    for (let i = 0; i < n; i++) starts[i] = i;
    starts[n] = n;
    let minRank = NO_RANK;
    let minAt = -1;
    for (let i = 0; i < n - 1; i++) {
      const r = ranks.get(binary.substring(i, i + 2)) ?? NO_RANK;
      pairRanks[i] = r;
      if (r < minRank) {
        minRank = r;
        minAt = i;
      }
    }
    pairRanks[n - 1] = NO_RANK;
    while (minRank !== NO_RANK) {
      const i = minAt;
      // Merge part i with part i+1: drop start i+1.
      starts.copyWithin(i + 1, i + 2, parts + 1);
      pairRanks.copyWithin(i + 1, i + 2, parts);
      parts--;
      if (i > 0) pairRanks[i - 1] = ranks.get(binary.substring(starts[i - 1], starts[i + 1])) ?? NO_RANK;
      pairRanks[i] = i + 1 < parts ? (ranks.get(binary.substring(starts[i], starts[i + 2])) ?? NO_RANK) : NO_RANK;
      minRank = NO_RANK;
      minAt = -1;
      for (let j = 0; j < parts - 1; j++) {
        const r = pairRanks[j];
        if (r < minRank) {
          minRank = r;
          minAt = j;
        }
      }
    }
    for (let p = 0; p < parts; p++) {
      const r = ranks.get(binary.substring(starts[p], starts[p + 1]));
      if (r === undefined) throw new Error('BPE produced a part that is not a token (the vocabulary lacks a byte)');
      out.push(r + idOffset);
    }
  }
}
