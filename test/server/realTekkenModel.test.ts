// The real-vocabulary tiny model fixture: loads through LLM.create and serves over HTTP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { REAL_TEKKEN_VOCAB_SIZE, startRealTekkenServer, type RealTekkenServer } from '../helpers/realTekkenModel.js';

let s: RealTekkenServer;
before(async () => {
  s = await startRealTekkenServer();
});
after(async () => {
  await s.close();
});

test('the fixture model has the full Tekken vocabulary and serves completions', async () => {
  const tok = s.llm.getTokenizer();
  assert.equal(tok.vocabSize, REAL_TEKKEN_VOCAB_SIZE);
  assert.equal(s.llm.components.runner.limits.vocabSize, REAL_TEKKEN_VOCAB_SIZE);
  // The real vocabulary merges common words into single tokens.
  assert.equal(tok.encode(' the', { bos: false, eos: false }).length, 1);
  const res = await s.client.completions.create({ model: s.model, prompt: 'Hello', max_tokens: 4, temperature: 0, ignore_eos: true } as never);
  assert.equal(res.usage?.completion_tokens, 4);
});
