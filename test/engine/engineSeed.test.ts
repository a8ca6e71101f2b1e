// The engine's seed (vLLM's --seed): requests without a seed draw theirs from it in arrival
// order, so the same requests in the same order sample the same text; without it, fresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LLM } from '../../src/engine/llm.js';
import { seedSource } from '../../src/engine/seedSource.js';

test('seedSource: a seed gives one sequence in [0, 2^31); null gives fresh values', () => {
  const a = seedSource(42);
  const b = seedSource(42);
  const xs = Array.from({ length: 100 }, () => a());
  assert.deepEqual(Array.from({ length: 100 }, () => b()), xs);
  assert.ok(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 31));
  const c = seedSource(43);
  assert.notDeepEqual(Array.from({ length: 100 }, () => c()), xs);
  assert.equal(new Set(xs).size, 100);
  const fresh = seedSource(null);
  assert.notEqual(fresh(), fresh());
});

async function texts(seed: number | undefined): Promise<string[]> {
  const llm = await LLM.create({ maxModelLen: 256, maxNumSeqs: 4, threads: 1, seed });
  try {
    const out: string[] = [];
    for (const p of ['one', 'two', 'three']) out.push((await llm.generate(p, { temperature: 1, maxTokens: 12, ignoreEos: true }))[0].outputs[0].text);
    return out;
  } finally {
    await llm.close();
  }
}

test('LLM seed: unseeded requests repeat across engines with the same seed, and differ with another', async () => {
  const first = await texts(5);
  assert.deepEqual(await texts(5), first);
  assert.notDeepEqual(await texts(6), first);
});
