// Memoised ids of pre-split pieces. Natural text repeats its words, so most pieces are found
// here and skip UTF-8 conversion and BPE. Bounded: cleared when full.

const MAX_ENTRIES = 1 << 16;
const MAX_PIECE_LENGTH = 32;

export class PieceCache {
  private readonly map = new Map<string, number | readonly number[]>();

  get(piece: string): number | readonly number[] | undefined {
    return this.map.get(piece);
  }

  /** Remembers out[from..] as the ids of `piece`. */
  set(piece: string, out: readonly number[], from: number): void {
    if (piece.length > MAX_PIECE_LENGTH) return;
    if (this.map.size >= MAX_ENTRIES) this.map.clear();
    this.map.set(piece, out.length - from === 1 ? out[from] : out.slice(from));
  }
}
