// UTF-8 helpers on "binary strings" (one code unit per byte, 0..255).

const scratch: number[] = [];

/** The UTF-8 bytes of `s` as a binary string; lone surrogates become U+FFFD (EF BF BD), as TextEncoder does. */
export function utf8Binary(s: string): string {
  const b = scratch;
  b.length = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      b.push(c);
    } else if (c < 0x800) {
      b.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const lo = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
        b.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      } else {
        b.push(0xef, 0xbf, 0xbd);
      }
    } else {
      b.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  let out = '';
  for (let i = 0; i < b.length; i += 4096) out += String.fromCharCode.apply(null, b.slice(i, i + 4096));
  return out;
}

/** True when every code unit of `s` is below 0x80. */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** `s` with every lone surrogate replaced by U+FFFD (String.prototype.toWellFormed, Node >= 20). */
export function toWellFormed(s: string): string {
  const str = s as unknown as { isWellFormed(): boolean; toWellFormed(): string };
  return str.isWellFormed() ? s : str.toWellFormed();
}
