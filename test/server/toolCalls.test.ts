// Tool calling over real HTTP with the `openai` client, as vLLM serves Mistral with
// --enable-auto-tool-choice --tool-call-parser mistral: a tiny model with the real 131,072-token
// Tekken vocabulary whose sampled tokens are replaced by a script (scriptedRunner), so it "says"
// an exact [TOOL_CALLS] list; the parser, the ids, the streaming deltas and the finish reasons
// are what is tested. Also: the tools prompt, history with calls and results, and the 400s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import type { FastifyInstance } from 'fastify';
import { LLM } from '../../src/engine/llm.js';
import { loadComponents } from '../../src/engine/loadModel.js';
import { createServer } from '../../src/server/app.js';
import { encodeChat } from '../../src/tokenizer/index.js';
import { realTekkenModelOptions } from '../helpers/realTekkenModel.js';
import { realTekkenizer } from '../helpers/tekkenFixture.js';
import { scriptedRunner } from '../helpers/scriptedRunner.js';

const TOOL_CALLS = 9;
const EOS = 2;
const tok = () => realTekkenizer();
const enc = (s: string) => tok().encode(s, { bos: false, eos: false });

const WEATHER = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
  },
};
const NOW = { type: 'function' as const, function: { name: 'now', parameters: {} } };

let script: number[] = [];
let llm: LLM;
let app: FastifyInstance;
let client: OpenAI;
let base: string;

before(async () => {
  const comps = await loadComponents(realTekkenModelOptions());
  llm = new LLM(
    { ...comps, runner: scriptedRunner(comps.runner, () => script, EOS) },
    { maxModelLen: comps.runner.limits.maxModelLen, maxNumSeqs: comps.defaults.maxNumSeqs, maxNumBatchedTokens: comps.defaults.maxNumBatchedTokens },
  );
  app = createServer(llm, { enableAutoToolChoice: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await app.close();
  await llm.close();
});

const CALL_JSON = '[{"name": "get_weather", "arguments": {"city": "Paris", "days": 3.0}}, {"name":"now","arguments":{}}]';
const USER = [{ role: 'user' as const, content: 'Weather in Paris for 3 days, and the time?' }];

test('auto: text before [TOOL_CALLS] is content, the list becomes tool_calls with fresh 9-character ids', async () => {
  script = [...enc('Let me check.'), TOOL_CALLS, ...enc(CALL_JSON)];
  const res = await client.chat.completions.create({ model: llm.modelName, messages: USER, tools: [WEATHER, NOW], max_tokens: 100 });
  const choice = res.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, 'Let me check.');
  const calls = choice.message.tool_calls!;
  assert.equal(calls.length, 2);
  for (const c of calls) {
    assert.match(c.id, /^[A-Za-z0-9]{9}$/);
    assert.equal(c.type, 'function');
  }
  assert.notEqual(calls[0].id, calls[1].id);
  assert.deepEqual(
    calls.map((c) => c.type === 'function' && [c.function.name, c.function.arguments]),
    [
      ['get_weather', '{"city": "Paris", "days": 3.0}'],
      ['now', '{}'],
    ],
  );
  // Only calls: content is null.
  script = [TOOL_CALLS, ...enc('[{"name": "now", "arguments": {}}]')];
  const only = await client.chat.completions.create({ model: llm.modelName, messages: USER, tools: [WEATHER, NOW], max_tokens: 100 });
  assert.equal(only.choices[0].message.content, null);
  assert.equal(only.choices[0].message.tool_calls?.length, 1);
});

test('auto: streamed deltas accumulate (openai stream helper) to the non-streamed message', async () => {
  for (const s of [[...enc('Checking'), TOOL_CALLS, ...enc(CALL_JSON)], [TOOL_CALLS, ...enc(CALL_JSON)], enc('No tools needed, sunny.')]) {
    script = s;
    const whole = await client.chat.completions.create({ model: llm.modelName, messages: USER, tools: [WEATHER, NOW], max_tokens: 100 });
    const stream = client.chat.completions.stream({ model: llm.modelName, messages: USER, tools: [WEATHER, NOW], max_tokens: 100 });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    stream.on('chunk', (c) => chunks.push(c));
    const streamed = await stream.finalChatCompletion();
    const strip = (m: OpenAI.ChatCompletionMessage) => ({
      content: m.content || null,
      tool_calls: (m.tool_calls ?? []).map((c) => c.type === 'function' && { name: c.function.name, arguments: c.function.arguments }),
    });
    assert.deepEqual(strip(streamed.choices[0].message), strip(whole.choices[0].message));
    assert.equal(streamed.choices[0].finish_reason, whole.choices[0].finish_reason);
    // vLLM's shape: the first delta of a call names it (with its id and type), later ones only add arguments.
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const firsts = toolDeltas.filter((d) => d.id !== undefined);
    assert.equal(firsts.length, whole.choices[0].message.tool_calls?.length ?? 0);
    for (const d of firsts) assert.ok(d.function?.name && d.type === 'function' && /^[A-Za-z0-9]{9}$/.test(d.id!));
    for (const d of toolDeltas.filter((x) => x.id === undefined)) assert.equal(d.function?.name, undefined);
  }
});

test('auto: a [TOOL_CALLS] not followed by a valid list leaves the text as content', async () => {
  script = [...enc('Hmm'), TOOL_CALLS, ...enc('[{"name": "get_weather", "arguments": {"city": ')];
  const res = await client.chat.completions.create({ model: llm.modelName, messages: USER, tools: [WEATHER], max_tokens: 100 });
  assert.equal(res.choices[0].finish_reason, 'stop');
  assert.equal(res.choices[0].message.tool_calls, undefined);
  assert.equal(res.choices[0].message.content, 'Hmm[{"name": "get_weather", "arguments": {"city": ');
});

test('tool_choice none: tools stay in the prompt, the output is plain content', async () => {
  script = [...enc('a'), TOOL_CALLS, ...enc('[{"name": "now", "arguments": {}}]')];
  const res = await client.chat.completions.create({ model: llm.modelName, messages: USER, tools: [NOW], tool_choice: 'none', max_tokens: 100 });
  assert.equal(res.choices[0].message.tool_calls, undefined);
  assert.equal(res.choices[0].finish_reason, 'stop');
});

async function tokenize(body: object): Promise<{ status: number; json: { tokens: number[]; error?: { message: string } } }> {
  const r = await fetch(`${base}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as { tokens: number[] } };
}

test('history with tool calls and results is encoded as mistral_common does (OpenAI ids cut to their last 9)', async () => {
  const messages = [
    ...USER,
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_0123456789abcdef', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_0123456789abcdef', content: '{"temp": 21}' },
    { role: 'assistant', content: 'It is 21.' },
    { role: 'user', content: 'Thanks' },
  ];
  const { status, json } = await tokenize({ messages, tools: [WEATHER] });
  assert.equal(status, 200);
  const want = encodeChat(tok(), [
    USER[0],
    { role: 'assistant', content: null, toolCalls: [{ id: '89abcdef'.padStart(9, '7'), name: 'get_weather', arguments: '{"city": "Paris"}' }] },
    { role: 'tool', toolCallId: '789abcdef', content: '{"temp": 21}' },
    { role: 'assistant', content: 'It is 21.' },
    { role: 'user', content: 'Thanks' },
  ], { tools: [WEATHER.function] });
  assert.deepEqual(json.tokens, want.ids);
  const text = tok().decode(json.tokens, { specialTokenPolicy: 'keep' });
  assert.ok(text.includes('[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}, "id": "789abcdef"}]</s>'), text);
  assert.ok(text.includes('[TOOL_RESULTS]789abcdef[TOOL_CONTENT]{"temp": 21}[/TOOL_RESULTS]'), text);
  assert.ok(text.includes('[AVAILABLE_TOOLS][{"type": "function", "function": {"name": "get_weather"'), text);
  // The chat endpoint counts the same prompt.
  script = enc('ok');
  const res = await client.chat.completions.create({ model: llm.modelName, messages: messages as OpenAI.ChatCompletionMessageParam[], tools: [WEATHER], tool_choice: 'none', max_tokens: 5 });
  assert.equal(res.usage?.prompt_tokens, json.tokens.length);
});

test('/tokenize honours continue_final_message (no </s> after the last assistant message)', async () => {
  const messages = [{ role: 'user', content: 'Say hi' }, { role: 'assistant', content: 'Hi' }];
  const cont = await tokenize({ messages, continue_final_message: true });
  assert.equal(cont.status, 200);
  assert.deepEqual(cont.json.tokens.slice(-enc('Hi').length - 1), [4, ...enc('Hi')]);
  const refused = await tokenize({ messages });
  assert.equal(refused.status, 400);
  assert.match(refused.json.error!.message, /last message must be from the user or a tool/);
});

test('chats mistral_common refuses are 400s naming the rule, on both endpoints', async () => {
  const cases: [object[], RegExp][] = [
    [[{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }], /last message must be from the user or a tool/],
    [[{ role: 'assistant', content: 'y' }], /must start with a user message or system message/],
    [[{ role: 'user', content: 'x' }, { role: 'assistant', content: 'y' }, { role: 'system', content: 's' }, { role: 'user', content: 'z' }], /unexpected role 'system' after role 'assistant'/],
    [[{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [{ id: 'abcdefghi', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', content: 'r' }], /tool_call_id is required/],
    [[{ role: 'user', content: 'x' }, { role: 'assistant', content: null, tool_calls: [{ id: 'abcdefghi', type: 'function', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'zzzzzzzzz', content: 'r' }], /answers no tool call/],
    [[{ role: 'user', content: 'x' }, { role: 'assistant', content: 'a' }, { role: 'tool', tool_call_id: 'abcdefghi', content: 'r' }], /answers no tool call/],
    [[{ role: 'system', content: null }, { role: 'user', content: 'x' }], /content is required/],
    [[{ role: 'user', content: 'x' }, { role: 'assistant', content: null, prefix: true }], /neither content nor tool_calls/],
    [[{ role: 'user', content: 'x', tool_calls: [] }], /only assistant messages make tool calls/],
    [[{ role: 'user', content: 'x', tool_call_id: 'abcdefghi' }], /only tool messages answer a tool call/],
  ];
  for (const [messages, rule] of cases) {
    const r = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages, max_tokens: 2 }) });
    const body = (await r.json()) as { error: { message: string } };
    assert.equal(r.status, 400, JSON.stringify(messages));
    assert.match(body.error.message, rule);
    const t = await tokenize({ messages });
    assert.equal(t.status, 400, JSON.stringify(messages));
    assert.match(t.json.error!.message, rule);
  }
  // A last assistant message with prefix: true is continued.
  script = enc('!');
  const ok = await client.chat.completions.create({ model: llm.modelName, messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: 'Hel', prefix: true } as OpenAI.ChatCompletionMessageParam], max_tokens: 3 });
  assert.equal(ok.choices[0].message.content, '!');
});

test('tool_choice errors: unknown named function, required without tools, auto without --enable-auto-tool-choice', async () => {
  const post = async (body: object, server = base) => {
    const r = await fetch(`${server}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages: USER, max_tokens: 2, ...body }) });
    return { status: r.status, body: (await r.json()) as { error: { message: string; param: string } } };
  };
  let r = await post({ tools: [WEATHER], tool_choice: { type: 'function', function: { name: 'nope' } } });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /"nope", which is not among the tools/);
  r = await post({ tool_choice: 'required' });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /needs tools/);
  r = await post({ tools: [{ type: 'function', function: { name: 'bad name' } }], tool_choice: 'none' });
  assert.equal(r.status, 400);
  assert.match(r.body.error.message, /function name was "bad name"/);
  const plain = createServer(llm, {});
  await plain.listen({ host: '127.0.0.1', port: 0 });
  try {
    const other = `http://127.0.0.1:${(plain.server.address() as AddressInfo).port}`;
    r = await post({ tools: [WEATHER] }, other);
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /requires --enable-auto-tool-choice/);
    assert.equal(r.body.error.param, 'tool_choice');
    script = enc('fine');
    r = await post({ tools: [WEATHER], tool_choice: 'none' }, other);
    assert.equal(r.status, 200);
  } finally {
    await plain.close();
  }
});
