// Pre-split of text by the Tekken pattern (docs/tokenizer.md#pattern), hand-compiled: a scanner that returns,
// at each position, the end of the match the backtracking regex engine would find there.
//
//   1  [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+
//   2  [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*
//   3  \p{N}
//   4   ?[^\s\p{L}\p{N}]+[\r\n/]*
//   5  \s*[\r\n]+
//   6  \s+(?!\S)
//   7  \s+
// Alternatives are tried in order, greedy quantifiers longest first, then shorter (backtracking).
// test/tokenizer/preSplit.test.ts checks it against the RegExp on the corpus and on random text.

// Character class bits.
const LETTER = 1; // \p{L}
const NUMBER = 2; // \p{N}
const SPACE = 4; // \s (Unicode White_Space, as Rust's regex)
const CRLF = 8; // \r or \n
const UPPERISH = 16; // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
const LOWERISH = 32; // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
const NEWLINE_OR_SLASH = 64; // [\r\n/]
const KNOWN = 128;

const reLetter = /\p{L}/u;
const reNumber = /\p{N}/u;
const reSpace = /\p{White_Space}/u;
const reUpperish = /[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]/u;
const reLowerish = /[\p{Ll}\p{Lm}\p{Lo}\p{M}]/u;

function classify(cp: number): number {
  const ch = String.fromCodePoint(cp);
  let k = KNOWN;
  if (reLetter.test(ch)) k |= LETTER;
  if (reNumber.test(ch)) k |= NUMBER;
  if (reSpace.test(ch)) k |= SPACE;
  if (cp === 0x0d || cp === 0x0a) k |= CRLF | NEWLINE_OR_SLASH;
  if (cp === 0x2f) k |= NEWLINE_OR_SLASH;
  if (reUpperish.test(ch)) k |= UPPERISH;
  if (reLowerish.test(ch)) k |= LOWERISH;
  return k;
}

// Classes of BMP code points, filled on first sight (ASCII up front); astral ones in a map.
const bmpClass = new Uint8Array(0x10000);
for (let c = 0; c < 0x80; c++) bmpClass[c] = classify(c);
const astralClass = new Map<number, number>();

function classAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) {
    const k = bmpClass[c];
    if (k !== 0) return k;
    return (bmpClass[c] = classify(c));
  }
  const cp = s.codePointAt(i) as number;
  if (cp <= 0xffff) return classify(cp); // a lone high surrogate (callers make text well formed)
  let k = astralClass.get(cp);
  if (k === undefined) astralClass.set(cp, (k = classify(cp)));
  return k;
}

/** UTF-16 length of the code point at i. */
function widthAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}

/** Start of the code point that ends at i (i > 0). */
function stepBack(s: string, i: number): number {
  const c = s.charCodeAt(i - 1);
  return c >= 0xdc00 && c <= 0xdfff && i >= 2 && s.charCodeAt(i - 2) >= 0xd800 && s.charCodeAt(i - 2) <= 0xdbff ? i - 2 : i - 1;
}

/** Class of a BMP code unit below the surrogates (the common case, inlined by callers' JIT). */
function bmpClassOf(c: number): number {
  const k = bmpClass[c];
  return k !== 0 ? k : (bmpClass[c] = classify(c));
}

/** End of the run of code points from i that all have one of `bits`. */
function runOf(s: string, i: number, n: number, bits: number): number {
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 0xd800) {
      if ((bmpClassOf(c) & bits) === 0) break;
      i++;
    } else {
      if ((classAt(s, i) & bits) === 0) break;
      i += widthAt(s, i);
    }
  }
  return i;
}

/** End of the run from i of code points that are not whitespace, letters or numbers. */
function runOfOther(s: string, i: number, n: number): number {
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 0xd800) {
      if ((bmpClassOf(c) & (SPACE | LETTER | NUMBER)) !== 0) break;
      i++;
    } else {
      if ((classAt(s, i) & (SPACE | LETTER | NUMBER)) !== 0) break;
      i += widthAt(s, i);
    }
  }
  return i;
}

/** [UPPERISH]*[LOWERISH]+ from `start`, with backtracking; -1 if it cannot match. */
function upperStarLowerPlus(s: string, start: number, n: number): number {
  const e = runOf(s, start, n, UPPERISH);
  if (e < n && (classAt(s, e) & LOWERISH) !== 0) return runOf(s, e, n, LOWERISH);
  for (let k = e; k > start; ) {
    k = stepBack(s, k);
    if ((classAt(s, k) & LOWERISH) !== 0) return runOf(s, k, n, LOWERISH);
  }
  return -1;
}

/** [UPPERISH]+[LOWERISH]* from `start`; -1 if it cannot match. */
function upperPlusLowerStar(s: string, start: number, n: number): number {
  const e = runOf(s, start, n, UPPERISH);
  return e === start ? -1 : runOf(s, e, n, LOWERISH);
}

/** End of the piece that starts at i (i < n). */
export function tekkenPieceEnd(s: string, i: number, n: number): number {
  const k0 = classAt(s, i);
  const w0 = widthAt(s, i);
  // Alternatives 1 and 2: the optional prefix is any code point but \r, \n, a letter or a number.
  const prefixable = (k0 & (LETTER | NUMBER | CRLF)) === 0;
  if (prefixable || (k0 & (UPPERISH | LOWERISH)) !== 0) {
    let e: number;
    if (prefixable && (e = upperStarLowerPlus(s, i + w0, n)) >= 0) return e;
    if ((e = upperStarLowerPlus(s, i, n)) >= 0) return e;
    if (prefixable && (e = upperPlusLowerStar(s, i + w0, n)) >= 0) return e;
    if ((e = upperPlusLowerStar(s, i, n)) >= 0) return e;
  }
  // 3: a single number.
  if ((k0 & NUMBER) !== 0) return i + w0;
  // 4: an optional space, then other characters, then newlines and slashes.
  if (s.charCodeAt(i) === 0x20) {
    if (i + 1 < n && (classAt(s, i + 1) & (SPACE | LETTER | NUMBER)) === 0) return runOf(s, runOfOther(s, i + 1, n), n, NEWLINE_OR_SLASH);
  } else if ((k0 & (SPACE | LETTER | NUMBER)) === 0) {
    return runOf(s, runOfOther(s, i, n), n, NEWLINE_OR_SLASH);
  }
  // 5..7: whitespace. Every White_Space code point is in the BMP, so one unit each.
  let w = i;
  let afterLastNewline = -1;
  while (w < n) {
    const c = s.charCodeAt(w);
    if (c >= 0xd800) break; // no White_Space code point is a surrogate or above
    const k = bmpClassOf(c);
    if ((k & SPACE) === 0) break;
    w++;
    if ((k & CRLF) !== 0) afterLastNewline = w;
  }
  if (afterLastNewline >= 0) return afterLastNewline; // 5: up to and including the last \r or \n
  if (w === n || w - i === 1) return w; // 6 at the end of text, or 7 for one space before \S
  return w - 1; // 6: leave the last space to the next piece
}

/** Calls emit(start, end) for each piece of `s`, in order; the pieces tile `s`. */
export function splitTekken(s: string, emit: (start: number, end: number) => void): void {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const end = tekkenPieceEnd(s, i, n);
    emit(i, end);
    i = end;
  }
}
