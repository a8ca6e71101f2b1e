// The speculative config parser (bounds, names the bad field) and the prompt lookup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpeculativeConfig } from '../../../src/engine/speculative/config.js';
import { ngramLookup } from '../../../src/engine/speculative/ngram.js';
import { BlockManager } from '../../../src/engine/blockManager.js';

test('speculative config: vLLM JSON and camelCase objects; bad values refused with the field named', () => {
  assert.deepEqual(parseSpeculativeConfig('{"method":"ngram","num_speculative_tokens":4,"prompt_lookup_max":4,"prompt_lookup_min":2}'), {
    method: 'ngram', numSpeculativeTokens: 4, promptLookupMax: 4, promptLookupMin: 2,
  });
  assert.deepEqual(parseSpeculativeConfig({ method: 'draft_model', model: '/m', numSpeculativeTokens: 3 }), { method: 'draft_model', model: '/m', numSpeculativeTokens: 3, loadFormat: undefined });
  const bad: [unknown, RegExp][] = [
    ['{', /not valid JSON/],
    ['[]', /must be a JSON object/],
    [{ method: 'ngram', num_speculative_tokens: 0 }, /num_speculative_tokens must be an integer in \[1, 16\]/],
    [{ method: 'ngram', num_speculative_tokens: 2.5 }, /num_speculative_tokens/],
    [{ method: 'ngram', num_speculative_tokens: 2, prompt_lookup_min: 5, prompt_lookup_max: 3 }, /prompt_lookup_min 5 is more than prompt_lookup_max 3/],
    [{ method: 'ngram', num_speculative_tokens: 2, prompt_lookup_max: 1000 }, /prompt_lookup_max/],
    [{ method: 'eagle', num_speculative_tokens: 2 }, /method must be 'ngram' or 'draft_model'/],
    [{ method: 'draft_model', num_speculative_tokens: 2 }, /needs "model"/],
    [{ method: 'ngram', num_speculative_tokens: 2, model: 'x' }, /'model' does not apply to method 'ngram'/],
    [{ method: 'ngram', num_speculative_tokens: 2, foo: 1 }, /unknown key 'foo'/],
    [{ method: 'replay', num_speculative_tokens: 2 }, /bench latency/],
    ['x'.repeat(5000), /longer than 4096/],
  ];
  for (const [input, re] of bad) assert.throws(() => parseSpeculativeConfig(input), re, JSON.stringify(input).slice(0, 60));
  assert.deepEqual(parseSpeculativeConfig({ method: 'replay', num_speculative_tokens: 2, replay_accept_rate: 0.5 }, { allowReplay: true }), { method: 'replay', numSpeculativeTokens: 2, acceptRate: 0.5, adaptive: false });
});

test('prompt lookup: the continuation of the latest earlier match of the longest suffix', () => {
  assert.deepEqual(ngramLookup([1, 2, 3, 4, 9, 1, 2, 3], 3, 1, 3), [4, 9, 1]);
  assert.deepEqual(ngramLookup([5, 2, 3, 7, 1, 2, 3, 8, 2, 3], 2, 2, 4), [8, 2], 'latest match of [2, 3]');
  assert.deepEqual(ngramLookup([1, 2, 3, 4], 3, 2, 4), [], 'no repeat');
  assert.deepEqual(ngramLookup([7, 7, 7, 7], 4, 1, 2), [7], 'the match runs into the suffix: what follows it');
  // Property (seeded random lists): a proposal continues an earlier occurrence of a suffix of
  // length in [min, 4]; no proposal means no such occurrence exists.
  let seed = 12345;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n);
  for (let trial = 0; trial < 500; trial++) {
    const tokens = Array.from({ length: 1 + rand(40) }, () => rand(4));
    const k = 1 + rand(5);
    const min = 1 + rand(3);
    const out = ngramLookup(tokens, k, min, 4);
    const len = tokens.length;
    const continues = (s: number, n: number) => tokens.slice(s, s + n).every((t, j) => t === tokens[len - n + j]);
    let exists = false;
    let explained = false;
    for (let n = min; n <= 4 && n < len; n++) {
      for (let s = 0; s + n < len; s++) {
        if (!continues(s, n)) continue;
        exists = true;
        if (out.length > 0 && out.length <= k && out.every((t, j) => tokens[s + n + j] === t)) explained = true;
      }
    }
    assert.equal(out.length > 0, exists, `${tokens}: proposal ${out}`);
    if (out.length > 0) assert.ok(explained, `${tokens} -> ${out}`);
  }
});

test('BlockManager.trim returns only the blocks past the kept tokens and never a cached one', () => {
  const bm = new BlockManager(8, 4);
  assert.ok(bm.allocate('a', 13)); // 4 blocks
  bm.trim('a', 9); // 3 blocks
  assert.equal(bm.blockTable('a').length, 3);
  assert.equal(bm.numFreeBlocks, 5);
  bm.commitFullBlocks('a', ['h0', 'h1', 'h2'], 2);
  bm.trim('a', 8);
  assert.equal(bm.blockTable('a').length, 2);
  assert.throws(() => bm.trim('a', 4), /cannot be trimmed/, 'a registered block is never trimmed');
  bm.free('a');
  bm.checkInvariants();
  assert.equal(bm.numFreeBlocks, 8);
});
