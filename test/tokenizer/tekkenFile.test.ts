// Reading tekken.json: every version in use, the special-token defaults, the image block, and
// bad files failing with an error that names the file and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDevVocabulary } from '../../src/tokenizer/devVocabulary.js';
import { buildTekkenJson } from '../../src/tokenizer/tekkenBuilder.js';
import { Tekkenizer } from '../../src/tokenizer/tekkenizer.js';
import { TekkenFileError } from '../../src/tokenizer/tekkenFile.js';
import { devTekkenPath, realTekkenizer } from '../helpers/tekkenFixture.js';

const { tokenBytes } = loadDevVocabulary();
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A small valid v7 file: the first 400 real ranks, 1000 special tokens. */
function small(): Json {
  return buildTekkenJson(tokenBytes, { maxRanks: 400 }) as Json;
}

function rejects(obj: unknown, pattern: RegExp, source = 'bad/tekken.json'): void {
  assert.throws(
    () => Tekkenizer.fromJSON(obj, source),
    (err: unknown) => err instanceof TekkenFileError && err.message.startsWith(`${source}: `) && pattern.test(err.message),
  );
}

test('a truncated real vocabulary keeps its ids: the first K ranks give vocab size K + 1000', () => {
  const tok = Tekkenizer.fromFile(devTekkenPath(2000));
  assert.equal(tok.vocabSize, 3000);
  const text = 'The quick brown fox jumps over the lazy dog, naïvely.';
  const ids = tok.encode(text);
  assert.ok(ids.every((id) => id < 3000));
  assert.equal(tok.decode(ids), text);
  // Tokens the small vocabulary has are the real vocabulary's ids.
  const full = realTekkenizer().encode(text);
  assert.ok(ids.length >= full.length);
});

test('only the first default_vocab_size - num_special entries of vocab are used', () => {
  const json = small();
  json.config.default_vocab_size = 1300; // 300 of the 400 entries
  json.vocab[350].rank = 7; // out of order, but beyond the used range: ignored
  const tok = Tekkenizer.fromJSON(json);
  assert.equal(tok.vocabSize, 1300);
  assert.throws(() => tok.decode([1300]), /token id 1300 at position 0 is out of range \[0, 1300\)/);
});

test('every version in use loads: v3 and v7 without special_tokens get the v7 defaults', () => {
  for (const version of ['v3', 'v7', 'v11', 'v13'] as const) {
    const json = buildTekkenJson(tokenBytes, { maxRanks: 300, version, withSpecialTokens: version === 'v11' || version === 'v13' });
    const tok = Tekkenizer.fromJSON(json);
    assert.equal(tok.version, version);
    assert.equal(tok.idToPiece(17), '[SYSTEM_PROMPT]');
    assert.equal(tok.idToPiece(20), '<SPECIAL_20>');
  }
});

test('special_tokens from the file name the ids; fewer than num_special are padded', () => {
  const json = small();
  json.special_tokens = [
    { rank: 0, token_str: '<unk>', is_control: true },
    { rank: 1, token_str: '<s>', is_control: true },
    { rank: 2, token_str: '</s>', is_control: true },
    { rank: 3, token_str: '[FOO]', is_control: true },
  ];
  const tok = Tekkenizer.fromJSON(json);
  assert.equal(tok.specialId('[FOO]'), 3);
  assert.equal(tok.idToPiece(4), '<SPECIAL_4>');
  assert.throws(() => tok.imgId, /no special token \[IMG\]/);
});

test('the image block: "image", the older "multimodal", or none', () => {
  const json = small();
  assert.deepEqual(Tekkenizer.fromJSON(json).imageConfig, { patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2 });
  delete json.image;
  assert.equal(Tekkenizer.fromJSON(json).imageConfig, null);
  json.multimodal = { image_patch_size: 16, max_image_size: 1024 };
  assert.deepEqual(Tekkenizer.fromJSON(json).imageConfig, { patchSize: 16, maxImageSize: 1024, spatialMergeSize: 1 });
  json.config.version = 'v13';
  rejects(json, /must be called "image", not "multimodal"/);
});

test('missing fields are named', () => {
  for (const field of ['pattern', 'version', 'default_vocab_size', 'default_num_special_tokens']) {
    const json = small();
    delete json.config[field];
    rejects(json, new RegExp(`missing field "config\\.${field}"`));
  }
  const noConfig = small();
  delete noConfig.config;
  rejects(noConfig, /missing field "config"/);
  const noVocab = small();
  delete noVocab.vocab;
  rejects(noVocab, /missing field "vocab"/);
  const v11 = small();
  v11.config.version = 'v11';
  delete v11.special_tokens;
  rejects(v11, /missing field "special_tokens" \(required for version v11\)/);
  rejects('[]', /not a JSON object/);
});

test('a wrong version, a rank out of order, bad base64 or a short vocab are named', () => {
  const wrongVersion = small();
  wrongVersion.config.version = 'v5';
  rejects(wrongVersion, /unsupported version "v5"/);
  const outOfOrder = small();
  outOfOrder.vocab[300].rank = 301;
  rejects(outOfOrder, /rank out of order: vocab\[300\] has rank 301, expected 300/);
  const badBase64 = small();
  badBase64.vocab[260].token_bytes = 'not base64!';
  rejects(badBase64, /vocab\[260\] \(rank 260\) has invalid base64/);
  const notByte = small();
  notByte.vocab[65].token_bytes = Buffer.from('AB').toString('base64');
  rejects(notByte, /vocab\[65\] must be the single byte 65/);
  const duplicate = small();
  duplicate.vocab[301].token_bytes = duplicate.vocab[300].token_bytes;
  rejects(duplicate, /vocab\[301\] \(rank 301\) repeats the token_bytes/);
  const short = small();
  short.config.default_vocab_size = 1500;
  rejects(short, /"vocab" has 400 entries but .* = 500 are needed/);
  const badSpecial = small();
  badSpecial.special_tokens[5].rank = 6;
  rejects(badSpecial, /rank out of order: special_tokens\[5\]/);
  const dupSpecial = small();
  dupSpecial.special_tokens[5].token_str = '<s>';
  rejects(dupSpecial, /special token "<s>" appears twice/);
});

test('fromFile names the file when it is missing or not JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tekken-'));
  const missing = join(dir, 'missing.json');
  assert.throws(() => Tekkenizer.fromFile(missing), (e: Error) => e.message === `${missing}: cannot read file (ENOENT)`);
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"config": ');
  assert.throws(() => Tekkenizer.fromFile(broken), (e: Error) => e.message.startsWith(`${broken}: not valid JSON`));
  const wrong = join(dir, 'wrong.json');
  const json = small();
  json.config.version = 'v99';
  writeFileSync(wrong, JSON.stringify(json));
  assert.throws(() => Tekkenizer.fromFile(wrong), (e: Error) => e.message.startsWith(`${wrong}: unsupported version "v99"`));
});
