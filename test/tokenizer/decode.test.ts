// Decoding: special-token policies, out-of-range ids, and the incremental detokenizer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IncrementalDetokenizer } from '../../src/tokenizer/incrementalDetokenizer.js';
import { TokenIdError } from '../../src/tokenizer/tekkenizer.js';
import { fixture } from '../helpers/paths.js';
import { realTekkenizer } from '../helpers/tekkenFixture.js';

const tok = realTekkenizer();
const golden = JSON.parse(readFileSync(fixture('tokenizer', 'golden.json'), 'utf8')) as {
  entries: Record<string, number[]>;
  decode: { ids: number[]; text: string }[];
};

test('special tokens: ignored by default, kept as their string, or refused', () => {
  const ids = [1, 3, ...tok.encode('Hello'), 4, ...tok.encode('Hi'), 2];
  assert.equal(tok.decode(ids), 'HelloHi');
  assert.equal(tok.decode(ids, { specialTokenPolicy: 'keep' }), '<s>[INST]Hello[/INST]Hi</s>');
  assert.throws(() => tok.decode(ids, { specialTokenPolicy: 'raise' }), /special token id 1 \(<s>\)/);
  assert.equal(tok.idToPiece(3), '[INST]');
  assert.ok(tok.isSpecial(999) && !tok.isSpecial(1000) && !tok.isSpecial(-1));
});

test('a special id ends a run of bytes: a character split by it decodes as replacements', () => {
  const euro = [1000 + 0xe2, 1000 + 0x82, 1000 + 0xac];
  assert.equal(tok.decode(euro), '€');
  assert.equal(tok.decode([euro[0], euro[1], 5, euro[2]]), '\ufffd\ufffd');
});

test('an out-of-range id is named with its position', () => {
  for (const bad of [131072, -1, 1.5, NaN]) {
    assert.throws(
      () => tok.decode([1000, bad]),
      (e: unknown) => e instanceof TokenIdError && e.message === `token id ${bad} at position 1 is out of range [0, 131072)`,
    );
  }
});

function stream(ids: readonly number[], policy?: 'ignore' | 'keep'): string[] {
  const detok = new IncrementalDetokenizer(tok, { specialTokenPolicy: policy });
  const parts = ids.map((id) => detok.push(id));
  parts.push(detok.flush());
  return parts;
}

test('incremental detokenisation concatenates to decode(all ids) on the corpus, one id at a time', () => {
  for (const [name, ids] of Object.entries(golden.entries)) {
    const parts = stream(ids);
    assert.equal(parts.join(''), tok.decode(ids), name);
    if (!tok.decode(ids).includes('\ufffd')) assert.ok(parts.every((p) => !p.includes('\ufffd')), name);
  }
});

test('incremental detokenisation never emits half a character', () => {
  // 👩🏿‍💻 byte by byte: nothing until each 4-byte character is complete.
  const bytes = [...Buffer.from('é👩🏿‍💻', 'utf8')].map((b) => 1000 + b);
  const parts = stream(bytes);
  assert.deepEqual(parts.filter((p) => p !== ''), ['é', '👩', '🏿', '\u200d', '💻']);
  assert.equal(parts.join(''), 'é👩🏿‍💻');
});

test('incremental detokenisation matches decode on broken UTF-8 and with specials kept or skipped', () => {
  for (const d of golden.decode) assert.equal(stream(d.ids).join(''), d.text);
  const ids = [1, 3, 1000 + 0xe2, 1000 + 0x82, 4, ...tok.encode('naïve 🙂'), 1000 + 0xf0, 2];
  for (const policy of ['ignore', 'keep'] as const) {
    assert.equal(stream(ids, policy).join(''), tok.decode(ids, { specialTokenPolicy: policy }), policy);
  }
  const detok = new IncrementalDetokenizer(tok);
  assert.throws(() => detok.push(200000), /token id 200000 at position 0 is out of range/);
});
