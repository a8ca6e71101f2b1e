import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpPyJson, parsePyJson, PyJsonError, tryParsePyJson } from '../../src/tokenizer/pyJson.js';

// Expected strings: CPython 3.11's json.dumps(json.loads(text), ensure_ascii=False).
const CASES: [string, string][] = [
  ['1.0', '1.0'],
  ['1e2', '100.0'],
  ['0.00001', '1e-05'],
  ['1e16', '1e+16'],
  ['123456789012345678', '123456789012345678'],
  ['1e400', 'Infinity'],
  ['-0', '0'],
  ['-0.0', '-0.0'],
  ['[1.5e-7, 2.5, 100.25, 1e15, 12345678901234567890123]', '[1.5e-07, 2.5, 100.25, 1000000000000000.0, 12345678901234567890123]'],
  ['{"b":1,"2":2,"b":3}', '{"b": 3, "2": 2}'],
  ['"\\u00e9\\u0001\\t/"', '"é\\u0001\\t/"'],
  ['NaN', 'NaN'],
  [' {"a" : [ ] , "c":{}}\n', '{"a": [], "c": {}}'],
];

test('Python json.loads + json.dumps(ensure_ascii=False), floats and key order included', () => {
  for (const [text, want] of CASES) assert.equal(dumpPyJson(parsePyJson(text)), want, text);
});

test('not JSON is refused, as json.loads refuses it', () => {
  for (const bad of ['', '{', '[1,]', '{"a":1,}', '01', '1 2', "{'a': 1}", '"\u0001"', 'nul']) {
    assert.throws(() => parsePyJson(bad), PyJsonError, bad);
    assert.equal(tryParsePyJson(bad), null);
  }
});
