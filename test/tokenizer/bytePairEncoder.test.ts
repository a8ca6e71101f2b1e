// The two merge strategies (rescan for short pieces, heap for long ones) give the same tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BytePairEncoder } from '../../src/tokenizer/bytePairEncoder.js';
import { loadDevVocabulary } from '../../src/tokenizer/devVocabulary.js';
import { splitTekken } from '../../src/tokenizer/tekkenSplitter.js';
import { utf8Binary } from '../../src/tokenizer/utf8.js';
import { asset } from '../helpers/paths.js';
import { realTekkenizer } from '../helpers/tekkenFixture.js';

const { tokenBytes } = loadDevVocabulary();
const rescan = new BytePairEncoder(tokenBytes, { heapThreshold: Infinity });
const heap = new BytePairEncoder(tokenBytes, { heapThreshold: 0 });
const ranks = (bpe: BytePairEncoder, binary: string) => {
  const out: number[] = [];
  bpe.encode(binary, 0, out);
  return out;
};

test('heap and rescan merges agree on every corpus piece and on random byte strings', () => {
  const corpus = JSON.parse(readFileSync(asset('tokenizer', 'corpus.json'), 'utf8')) as { entries: { text: string }[] };
  const text = corpus.entries.map((e) => e.text).join('\n');
  splitTekken(text, (a, b) => {
    const binary = utf8Binary(text.slice(a, b));
    assert.deepEqual(ranks(heap, binary), ranks(rescan, binary), JSON.stringify(text.slice(a, b)));
  });
  // Whole sentences as one piece: long, with many equal-rank ties.
  for (const e of corpus.entries) {
    if (e.text.length === 0) continue;
    const binary = utf8Binary(e.text);
    assert.deepEqual(ranks(heap, binary), ranks(rescan, binary), e.text.slice(0, 30));
  }
  let seed = 99;
  const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  for (let round = 0; round < 300; round++) {
    let binary = '';
    const len = 1 + Math.floor(random() * 200);
    for (let i = 0; i < len; i++) binary += String.fromCharCode(random() < 0.7 ? 97 + Math.floor(random() * 4) : Math.floor(random() * 256));
    assert.deepEqual(ranks(heap, binary), ranks(rescan, binary), JSON.stringify(binary));
  }
});

test('very long pieces (a megabyte of spaces) encode in linear-ish time and round-trip', () => {
  const tok = realTekkenizer();
  for (const text of ['  '.repeat(5000) + 'x', ' '.repeat(1 << 20), 'ab'.repeat(1 << 18), '!?'.repeat(1 << 18)]) {
    const ids = tok.encode(text);
    assert.equal(tok.decode(ids), text);
  }
  const spaces = utf8Binary(' '.repeat(3001));
  assert.deepEqual(ranks(heap, spaces), ranks(rescan, spaces));
});
