// Memoised ids of pre-split pieces. Natural text repeats its words, so most pieces are found
// here and skip UTF-8 conversion and BPE. A direct-mapped table: a piece's slot is a hash of
// its code units, a new piece overwrites whatever held its slot, so memory stays bounded.
// Lookups read the piece in place (no substring is made on a hit).

const SLOT_BITS = 17;
const MAX_PIECE_LENGTH = 32;

export class PieceCache {
  private readonly keys: (string | undefined)[] = new Array(1 << SLOT_BITS).fill(undefined);
  private readonly values: (number | readonly number[])[] = new Array(1 << SLOT_BITS).fill(0);

  /** Slot of s[start..end): FNV-1a over the code units. */
  static slot(s: string, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return (h ^ (h >>> SLOT_BITS)) & ((1 << SLOT_BITS) - 1);
  }

  /** The ids of s[start..end) if cached (at `slot`), else undefined. */
  get(s: string, start: number, end: number, slot: number): number | readonly number[] | undefined {
    const key = this.keys[slot];
    if (key !== undefined && key.length === end - start && s.startsWith(key, start)) return this.values[slot];
    return undefined;
  }

  /** Remembers out[from..] as the ids of `piece` (at `slot`). */
  set(piece: string, slot: number, out: readonly number[], from: number): void {
    if (piece.length > MAX_PIECE_LENGTH) return;
    this.keys[slot] = piece;
    this.values[slot] = out.length - from === 1 ? out[from] : out.slice(from);
  }
}
