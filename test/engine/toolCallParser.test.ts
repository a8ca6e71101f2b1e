import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseToolCalls, ToolCallStreamParser } from '../../src/engine/toolCallParser.js';
import { dumpPyJson, parsePyJson } from '../../src/tokenizer/pyJson.js';

const TEXT = '[{"name": "f", "arguments": {"a": 1.50, "b": [true, null, "x\\"y"], "2": {}}}, {"arguments": {"q": "é"}, "name": "g_2"}, {"name": "h"}]';

test('whole-text parse: names, arguments as Python json.dumps, absent arguments {}', () => {
  assert.deepEqual(parseToolCalls(TEXT), [
    { name: 'f', arguments: '{"a": 1.5, "b": [true, null, "x\\"y"], "2": {}}' },
    { name: 'g_2', arguments: '{"q": "é"}' },
    { name: 'h', arguments: '{}' },
  ]);
  // Arguments are exactly what Python's json.dumps(json.loads(...)) of them prints.
  assert.equal(parseToolCalls(TEXT)![0].arguments, dumpPyJson(parsePyJson('{"a": 1.50, "b": [true, null, "x\\"y"], "2": {}}')));
});

test('streamed in pieces of any size: the name first, fragments that add up to the whole parse', () => {
  const whole = parseToolCalls(TEXT)!;
  for (const size of [1, 2, 3, 7, 1000]) {
    const p = new ToolCallStreamParser();
    const names: string[] = [];
    const args: string[] = ['', '', ''];
    for (let i = 0; i < TEXT.length; i += size) {
      const last = i + size >= TEXT.length;
      for (const e of p.push(TEXT.slice(i, i + size), last)) {
        if (e.kind === 'name') {
          assert.equal(names.length, e.index);
          assert.equal(args[e.index], '', 'no argument fragment before the name');
          names.push(e.name);
        } else args[e.index] += e.delta;
      }
    }
    assert.ok(p.complete, `size ${size}`);
    assert.deepEqual(names, whole.map((c) => c.name));
    assert.deepEqual(args, whole.map((c) => c.arguments));
  }
});

test('not a list of calls: null (the text stays content)', () => {
  for (const bad of ['', '[', '{"name": "f"}', '[1]', '[{"arguments": {}}]', '[{"name": 3}]', '[{"name": "f", "arguments": {"a": 1,}}]', '[{"name": "f"}] trailing', '[{"name": "f", "name": "g"}]', '[{"name": "f", "arguments": {"a": 01}}]']) {
    assert.equal(parseToolCalls(bad), null, bad);
  }
  assert.deepEqual(parseToolCalls(' [ ] '), []);
});
