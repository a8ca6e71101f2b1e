// The Tekken pre-split pattern, and its translation from Rust regex (fancy-regex, as tiktoken
// compiles it) to an equivalent JavaScript RegExp.

/** The v3..v13 Tekken pattern (docs/tokenizer.md#pattern). */
export const TEKKEN_PATTERN =
  '[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';

/**
 * Rust's `\s` is Unicode White_Space; JavaScript's `\s` differs (it adds U+FEFF and lacks U+0085),
 * and Rust's `\d` is any Nd digit where JavaScript's is ASCII. Both are rewritten to the Unicode
 * properties, inside and outside character classes. Everything else (\p{..}, look-ahead,
 * leftmost-first alternation, greedy quantifiers) means the same in both engines.
 */
export function toJsPattern(rustPattern: string): string {
  let out = '';
  for (let i = 0; i < rustPattern.length; i++) {
    const c = rustPattern[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = rustPattern[i + 1];
    i++;
    switch (next) {
      case 's':
        out += '\\p{White_Space}';
        break;
      case 'S':
        out += '\\P{White_Space}';
        break;
      case 'd':
        out += '\\p{Nd}';
        break;
      case 'D':
        out += '\\P{Nd}';
        break;
      case undefined:
        throw new Error(`pattern ends with a lone backslash: ${rustPattern}`);
      default:
        out += '\\' + next;
    }
  }
  return out;
}

/** A global Unicode RegExp that splits text the way tiktoken does with `rustPattern`. */
export function compilePreSplit(rustPattern: string): RegExp {
  return new RegExp(toJsPattern(rustPattern), 'gu');
}
