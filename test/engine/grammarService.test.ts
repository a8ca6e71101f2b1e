// The grammar worker service on a small byte vocabulary: masks follow the grammar as tokens are
// accepted, a completed grammar allows only the stop token, compiles are cached, and a compile
// past the timeout is refused while live matchers survive the worker's restart.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { GrammarService } from '../../src/engine/structured/grammarService.js';
import { bitmaskAllows } from '../../src/backend/sampling/tokenBitmask.js';
import { InvalidRequestError } from '../../src/engine/errors.js';

// id 0..2 special (2 = EOS), then one token per printable ASCII byte, then a few multi-byte tokens.
const extra = ['ab', '€'];
const vocab = ['', '', '', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), ...extra];
const enc = new TextEncoder();
const id = (s: string): number => vocab.indexOf(s);
const service = new GrammarService({ vocabSize: vocab.length, tokenBytes: (i) => enc.encode(vocab[i]), stopTokenIds: [2] }, { compileTimeoutMs: 200 });
after(() => service.close());

const allowed = (m: Int32Array): number[] => vocab.map((_, i) => i).filter((i) => bitmaskAllows(m, i));

test('masks follow the grammar; a completed grammar allows only EOS', async () => {
  const spec = { kind: 'ebnf' as const, source: 'root ::= "a" ("b" | "€")' };
  await service.compile(spec, 'structuredOutputs.grammar');
  assert.notEqual(service.compileMs(spec), null);
  service.open('s1', spec);
  assert.deepEqual(allowed((await service.fill(['s1']))[0]), [id('a'), id('ab')]);
  service.accept([['s1', id('a')]]);
  assert.deepEqual(allowed((await service.fill(['s1']))[0]), [id('b'), id('€')]);
  service.accept([['s1', id('€')]]);
  assert.deepEqual(allowed((await service.fill(['s1']))[0]), [2]);
  service.closeSeq('s1');
});

test('a compile past the timeout is a 400-class error; live matchers survive the restart', async () => {
  const spec = { kind: 'ebnf' as const, source: 'root ::= [0-9]+' };
  await service.compile(spec, 'structuredOutputs.grammar');
  service.open('live', spec);
  service.accept([['live', id('7')]]);
  const slow = { kind: 'json' as const, source: JSON.stringify({ type: 'object', properties: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, { type: 'string', maxLength: 50 + i }])) }) };
  await assert.rejects(service.compile(slow, 'structuredOutputs.json'), (err: unknown) => err instanceof InvalidRequestError && /longer than 200 ms/.test(err.message));
  const m = allowed((await service.fill(['live']))[0]);
  assert.ok(m.includes(2) && m.includes(id('3')) && !m.includes(id('a')), `after restart: ${m}`);
});
