// The pre-split: Rust-to-JS pattern translation, and the hand-compiled Tekken splitter checked
// against the RegExp on the corpus and on random text over every character class involved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compilePreSplit, TEKKEN_PATTERN, toJsPattern } from '../../src/tokenizer/preSplitPattern.js';
import { splitTekken } from '../../src/tokenizer/tekkenSplitter.js';
import { toWellFormed } from '../../src/tokenizer/utf8.js';
import { asset } from '../helpers/paths.js';

const regex = compilePreSplit(TEKKEN_PATTERN);

function byRegex(s: string): string[] {
  return Array.from(s.matchAll(regex), (m) => m[0]);
}
function byScanner(s: string): string[] {
  const pieces: string[] = [];
  splitTekken(s, (a, b) => pieces.push(s.slice(a, b)));
  return pieces;
}

test('\\s and \\S mean Unicode White_Space, as in Rust (JS \\s would differ on U+0085 and U+FEFF)', () => {
  assert.equal(toJsPattern('\\s+(?!\\S)|[^\\s\\p{L}]|\\d'), '\\p{White_Space}+(?!\\P{White_Space})|[^\\p{White_Space}\\p{L}]|\\p{Nd}');
  assert.deepEqual(byRegex('a\u0085\u0085b'), ['a', '\u0085', '\u0085b']);
  assert.deepEqual(byRegex('a \ufeffb'), ['a', ' \ufeff', 'b']);
  const naive = new RegExp(TEKKEN_PATTERN, 'gu');
  assert.notDeepEqual(Array.from('a\u0085\u0085b'.matchAll(naive), (m) => m[0]), byRegex('a\u0085\u0085b'));
});

test('the scanner splits the corpus exactly as the RegExp', () => {
  const corpus = JSON.parse(readFileSync(asset('tokenizer', 'corpus.json'), 'utf8')) as { entries: { text: string }[] };
  for (const { text } of corpus.entries) {
    const s = toWellFormed(text);
    assert.deepEqual(byScanner(s), byRegex(s), JSON.stringify(s.slice(0, 40)));
  }
});

test('the scanner splits random text exactly as the RegExp', () => {
  // One or more characters of each class the pattern distinguishes.
  const alphabet = [
    'a', 'z', 'A', 'Z', 'é', 'É', 'ß', 'ǅ', 'ʰ', 'ー', '中', 'ا', 'क', 'ि', '\u0301', '\u0308', '\u20e3', // letters and marks
    '0', '7', '٣', '½', 'Ⅻ', '²', '𝟙', // numbers
    ' ', ' ', '\t', '\n', '\r', '\u000b', '\u00a0', '\u0085', '\u2003', '\u3000', '\u2028', '\ufeff', // whitespace
    '/', '.', ',', '!', '"', "'", '-', '_', '(', '$', '€', '😀', '👍🏽', '\u200d', '\ufe0f', '\u0000', // other
    '𝐀', '𝒶', '𠀋', // astral letters
  ];
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  for (let round = 0; round < 4000; round++) {
    const len = 1 + Math.floor(random() * 24);
    let s = '';
    for (let i = 0; i < len; i++) s += alphabet[Math.floor(random() * alphabet.length)];
    assert.deepEqual(byScanner(s), byRegex(s), JSON.stringify(s));
  }
});
