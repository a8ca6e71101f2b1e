import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SAMPLING_PARAMS, resolveSamplingParams } from '../../src/engine/samplingParams.js';
import { InvalidRequestError } from '../../src/engine/errors.js';

test('defaults are vLLM\'s', () => {
  const p = resolveSamplingParams({});
  assert.deepEqual(p, DEFAULT_SAMPLING_PARAMS);
  assert.equal(p.maxTokens, 16);
  assert.equal(p.temperature, 1);
  assert.equal(p.skipSpecialTokens, true);
});

test('greedy clears the filters; stop may be one string; logitBias from an object', () => {
  const p = resolveSamplingParams({ temperature: 0, topK: 5, topP: 0.5, stop: 'x', logitBias: { '7': 2.5 } });
  assert.equal(p.topK, 0);
  assert.equal(p.topP, 1);
  assert.deepEqual(p.stop, ['x']);
  assert.equal(p.logitBias?.get(7), 2.5);
  assert.equal(resolveSamplingParams({ topK: -1 }).topK, 0);
  assert.equal(resolveSamplingParams({ maxTokens: null }).maxTokens, null);
});

test('each invalid value is refused naming its field', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ n: 0 }, 'n'],
    [{ temperature: -1 }, 'temperature'],
    [{ topP: 0 }, 'topP'],
    [{ topP: 1.5 }, 'topP'],
    [{ topK: -2 }, 'topK'],
    [{ topK: 1.5 }, 'topK'],
    [{ minP: 2 }, 'minP'],
    [{ presencePenalty: 3 }, 'presencePenalty'],
    [{ frequencyPenalty: -3 }, 'frequencyPenalty'],
    [{ repetitionPenalty: 0 }, 'repetitionPenalty'],
    [{ seed: 'x' }, 'seed'],
    [{ maxTokens: 0 }, 'maxTokens'],
    [{ minTokens: 5, maxTokens: 2 }, 'minTokens'],
    [{ logprobs: 21 }, 'logprobs'],
    [{ promptLogprobs: -1 }, 'promptLogprobs'],
    [{ stop: [''] }, 'stop'],
    [{ stop: [3] }, 'stop'],
    [{ stopTokenIds: [-1] }, 'stopTokenIds'],
    [{ logitBias: { a: 1 } }, 'logitBias'],
    [{ logitBias: { '3': 500 } }, 'logitBias'],
    [{ ignoreEos: 'yes' }, 'ignoreEos'],
    [{ temprature: 1 }, 'temprature'],
    [{ temperature: Number.NaN }, 'temperature'],
  ];
  for (const [input, field] of cases) {
    assert.throws(
      () => resolveSamplingParams(input as never),
      (e: unknown) => e instanceof InvalidRequestError && e.field === field && e.message.startsWith(field),
      JSON.stringify(input),
    );
  }
  assert.throws(() => resolveSamplingParams({ stopTokenIds: [70] }, 64), /outside the vocabulary of 64/);
});

test('structuredOutputs: exactly one field, validated by name; schema text parsed', () => {
  assert.equal(resolveSamplingParams({}).structuredOutputs, null);
  assert.deepEqual(resolveSamplingParams({ structuredOutputs: { json: '{"type":"integer"}' } }).structuredOutputs, { json: { type: 'integer' } });
  assert.deepEqual(resolveSamplingParams({ structuredOutputs: { choice: ['a', 'b'] } }).structuredOutputs, { choice: ['a', 'b'] });
  assert.throws(() => resolveSamplingParams({ structuredOutputs: {} }), /exactly one/);
  assert.throws(() => resolveSamplingParams({ structuredOutputs: { regex: 'a', grammar: 'root ::= "a"' } }), /exactly one/);
  assert.throws(() => resolveSamplingParams({ structuredOutputs: { regex: '' } }), /structuredOutputs.regex/);
  assert.throws(() => resolveSamplingParams({ structuredOutputs: { choice: ['a', 3] } as never }), /structuredOutputs.choice/);
  assert.throws(() => resolveSamplingParams({ structuredOutputs: { json: { type: 'array', uniqueItems: true } } }), /uniqueItems/);
  assert.throws(() => resolveSamplingParams({ structuredOutputs: { json: { type: 'number', minimum: 1 } } }), /minimum/);
  assert.throws(() => resolveSamplingParams({ structuredOutputs: { json: { type: 'string', format: 'color' } } }), /format/);
  assert.throws(() => resolveSamplingParams({ structuredOutputs: { jsonObject: true, bogus: 1 } as never }), /structuredOutputs.bogus/);
});
