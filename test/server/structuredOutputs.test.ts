// Structured outputs over real HTTP with the openai client, on a tiny random-weight model with
// the real 131,072-token Tekken vocabulary: random weights produce garbage, so only the grammar
// can make the output valid. Every json_schema output validates with ajv; choice and regex
// outputs match exactly; streamed equals non-streamed; a mixed batch keeps constrained rows
// valid; bad schemas are 400s and the server keeps serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { startRealTekkenServer, type RealTekkenServer } from '../helpers/realTekkenModel.js';

let s: RealTekkenServer;
before(async () => {
  s = await startRealTekkenServer({ maxNumSeqs: 16 });
});
after(async () => {
  await s.close();
});

const ajv = new Ajv({ strict: false });
const person = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 8 },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    tags: { type: 'array', items: { enum: ['a', 'b', 'ç€'] }, maxItems: 3 },
    kind: { enum: ['cat', 'dog', null] },
  },
  required: ['name', 'age', 'kind'],
  additionalProperties: false,
};
const point = { type: 'object', properties: { x: { type: 'integer', minimum: -5, maximum: 5 }, ok: { type: 'boolean' } }, required: ['x', 'ok'] };

async function post(path: string, body: object): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${s.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function assertValid(schema: object, text: string): void {
  const value: unknown = JSON.parse(text);
  assert.ok(ajv.validate(schema, value), `${text}: ${ajv.errorsText()}`);
}

test('chat response_format json_schema: every sampled output validates', async () => {
  for (let seed = 0; seed < 4; seed++) {
    const res = await s.client.chat.completions.create({
      model: s.model,
      messages: [{ role: 'user', content: 'Describe a person.' }],
      max_tokens: 80,
      temperature: 1,
      seed,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema: person, strict: true } },
    });
    const c = res.choices[0];
    assert.equal(c.finish_reason, 'stop', `seed ${seed}: ${c.message.content}`);
    assertValid(person, c.message.content ?? '');
  }
});

test('completions structured_outputs: choice and regex match exactly; json_object is an object', async () => {
  const choices = ['yes', 'no', 'peut-être', '日本語'];
  for (let seed = 0; seed < 4; seed++) {
    const res = await post('/v1/completions', { model: s.model, prompt: 'Answer:', max_tokens: 20, temperature: 1, seed, structured_outputs: { choice: choices } });
    assert.equal(res.status, 200);
    const c = (res.json.choices as { text: string; finish_reason: string }[])[0];
    assert.ok(choices.includes(c.text), c.text);
    assert.equal(c.finish_reason, 'stop');
  }
  const regex = '[0-9]{3}-[a-z]{2,4}(!|\\?)';
  for (let seed = 0; seed < 4; seed++) {
    const res = await post('/v1/completions', { model: s.model, prompt: 'Code:', max_tokens: 30, temperature: 1, seed, structured_outputs: { regex } });
    const text = (res.json.choices as { text: string }[])[0].text;
    assert.match(text, new RegExp(`^(?:${regex})$`));
  }
  const obj = await s.client.chat.completions.create({ model: s.model, messages: [{ role: 'user', content: 'JSON please' }], max_tokens: 60, temperature: 0, response_format: { type: 'json_object' } });
  const text = obj.choices[0].message.content ?? '';
  if (obj.choices[0].finish_reason === 'stop') assert.equal(typeof JSON.parse(text), 'object');
  else assert.ok(text.startsWith('{'), text);
});

test('guided_* fields are honoured; grammar (EBNF) too', async () => {
  const g = await post('/v1/completions', { model: s.model, prompt: 'x', max_tokens: 20, temperature: 1, seed: 5, guided_choice: ['left', 'right'] });
  assert.ok(['left', 'right'].includes((g.json.choices as { text: string }[])[0].text));
  const j = await post('/v1/chat/completions', { model: s.model, messages: [{ role: 'user', content: 'p' }], max_tokens: 40, temperature: 1, seed: 2, guided_json: point });
  assertValid(point, (j.json.choices as { message: { content: string } }[])[0].message.content);
  const e = await post('/v1/completions', { model: s.model, prompt: 'x', max_tokens: 20, temperature: 1, seed: 1, structured_outputs: { grammar: 'root ::= ("ab" | "cd") [0-9]' } });
  assert.match((e.json.choices as { text: string }[])[0].text, /^(ab|cd)[0-9]$/);
});

test('streamed and non-streamed constrained outputs agree', async () => {
  const body = { model: s.model, messages: [{ role: 'user' as const, content: 'Describe a person.' }], max_tokens: 80, temperature: 0.8, seed: 11, response_format: { type: 'json_schema' as const, json_schema: { name: 'p', schema: person } } };
  const full = await s.client.chat.completions.create(body);
  const stream = await s.client.chat.completions.create({ ...body, stream: true });
  let text = '';
  let finish = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, full.choices[0].message.content);
  assert.equal(finish, full.choices[0].finish_reason);
  assertValid(person, text);
});

test('a mixed batch (two schemas, choice, free rows, n=2) keeps every constrained row valid', async () => {
  const jobs = [];
  for (let i = 0; i < 3; i++) {
    jobs.push(post('/v1/completions', { model: s.model, prompt: `P${i}`, max_tokens: 80, temperature: 1, seed: i, n: 2, structured_outputs: { json: person } }).then((r) => ({ kind: 'person', r })));
    jobs.push(post('/v1/completions', { model: s.model, prompt: `Q${i}`, max_tokens: 40, temperature: 1, seed: 10 + i, response_format: { type: 'json_schema', json_schema: { name: 'pt', schema: point } } }).then((r) => ({ kind: 'point', r })));
    jobs.push(post('/v1/completions', { model: s.model, prompt: `R${i}`, max_tokens: 12, temperature: 1, seed: 20 + i, ignore_eos: true }).then((r) => ({ kind: 'free', r })));
    jobs.push(post('/v1/completions', { model: s.model, prompt: `S${i}`, max_tokens: 10, temperature: 1, seed: 30 + i, structured_outputs: { choice: ['alpha', 'beta'] } }).then((r) => ({ kind: 'choice', r })));
  }
  const done = await Promise.all(jobs);
  let freeValid = 0;
  for (const { kind, r } of done) {
    assert.equal(r.status, 200, JSON.stringify(r.json));
    for (const c of r.json.choices as { text: string; finish_reason: string }[]) {
      if (kind === 'person') assertValid(person, c.text);
      else if (kind === 'point') assertValid(point, c.text);
      else if (kind === 'choice') assert.ok(['alpha', 'beta'].includes(c.text), c.text);
      else {
        assert.equal(c.finish_reason, 'length');
        try {
          if (ajv.validate(point, JSON.parse(c.text))) freeValid++;
        } catch {
          // free text: not JSON, as expected of random weights
        }
      }
    }
  }
  assert.equal(freeValid, 0, 'free rows are not constrained by their neighbours');
});

test('bad schemas and unsupported keywords are 400s naming the problem; the server keeps serving', async () => {
  const cases: [object, RegExp][] = [
    [{ structured_outputs: { json: { type: 'foo' } } }, /unknown type "foo"/],
    [{ structured_outputs: { json: { type: 'integer', multipleOf: 3 } } }, /multipleOf/],
    [{ structured_outputs: { json: { type: 'object', properties: { a: { not: {} } } } } }, /"not"/],
    [{ structured_outputs: { json: '{not json' } }, /not valid JSON/],
    [{ structured_outputs: { grammar: 'root ::= "a" |' } }, /could not be compiled/],
    [{ structured_outputs: { choice: [] } }, /choice/],
    [{ structured_outputs: { json: point, regex: 'a' } }, /exactly one/],
    [{ structured_outputs: { structural_tag: '{}' } }, /structural_tag/],
    [{ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, /schema is required/],
    [{ response_format: { type: 'json_object' }, guided_regex: 'a' }, /only one way/],
    [{ guided_whitespace_pattern: ' ' }, /guided_whitespace_pattern/],
  ];
  for (const [extra, pattern] of cases) {
    const r = await post('/v1/completions', { model: s.model, prompt: 'x', max_tokens: 5, ...extra });
    const err = r.json.error as { message: string };
    assert.equal(r.status, 400, JSON.stringify(extra));
    assert.match(err.message, pattern);
  }
  const ok = await post('/v1/completions', { model: s.model, prompt: 'x', max_tokens: 10, temperature: 0, structured_outputs: { choice: ['fine'] } });
  assert.equal((ok.json.choices as { text: string }[])[0].text, 'fine');
});

test('library: structuredOutputs in generate; max_tokens cuts a grammar with "length"', async () => {
  const [a, b] = await s.llm.generate(['a', 'b'], [
    { temperature: 1, seed: 3, maxTokens: 60, structuredOutputs: { json: point } },
    { temperature: 1, seed: 3, maxTokens: 3, structuredOutputs: { json: person } },
  ]);
  assertValid(point, a.outputs[0].text);
  assert.equal(b.outputs[0].finishReason, 'length');
  assert.ok(b.outputs[0].text.startsWith('{'));
  assert.throws(() => s.llm.samplingParams({ structuredOutputs: { regex: 5 } as never }), /structuredOutputs.regex/);
});
