// The v7 chat encoding against mistral_common 1.12's own ids (test/fixtures/chat/golden.json,
// from tools/reference/chat_golden.py on the real 131,072-token vocabulary): tools, tool calls,
// tool results, continuation, image order and extreme aspect ratios, and the validator's
// refusals (each refused here too, with a message naming the rule).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatFormatError, encodeChat, type ChatMessage, type ChatToolDefinition, type ImageChunk } from '../../src/tokenizer/index.js';
import { tokenGrid } from '../../src/image/sizeRule.js';
import { realTekkenizer } from '../helpers/tekkenFixture.js';
import { repoRoot } from '../helpers/paths.js';

interface GoldenCase {
  name: string;
  messages: Record<string, unknown>[];
  tools?: { function: ChatToolDefinition }[];
  continue?: boolean;
  ids?: number[];
  error?: string;
  rule?: string;
}

const golden = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'chat', 'golden.json'), 'utf8')) as { cases: GoldenCase[] };

function chunk(c: Record<string, unknown>): unknown {
  if (c.type !== 'image') return c;
  const g = tokenGrid(c.w as number, c.h as number, 14, 1540, 2);
  return { type: 'image', widthTokens: g.widthTokens, heightTokens: g.heightTokens };
}

/** mistral_common's (OpenAI-shaped) message to ours. */
function toMessage(m: Record<string, unknown>): ChatMessage<ImageChunk> {
  const content = Array.isArray(m.content) ? (m.content as Record<string, unknown>[]).map(chunk) : m.content;
  const out: Record<string, unknown> = { role: m.role, content };
  if (m.tool_calls) {
    out.toolCalls = (m.tool_calls as { id: string; function: { name: string; arguments: string } }[]).map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
  }
  if ('tool_call_id' in m) out.toolCallId = m.tool_call_id;
  if ('name' in m) out.name = m.name;
  if ('prefix' in m) out.prefix = m.prefix;
  return out as unknown as ChatMessage<ImageChunk>;
}

test('golden file covers encodings and refusals', () => {
  assert.ok(golden.cases.filter((c) => c.ids).length >= 12);
  assert.ok(golden.cases.filter((c) => c.error).length >= 12);
});

for (const c of golden.cases) {
  test(`mistral_common v7: ${c.name}`, () => {
    const tok = realTekkenizer();
    const run = () =>
      encodeChat(tok, c.messages.map(toMessage), {
        tools: c.tools?.map((t) => t.function) ?? null,
        continueFinalMessage: c.continue === true,
      });
    if (c.ids) {
      const out = run();
      assert.deepEqual(out.ids, c.ids, tok.decode(out.ids, { specialTokenPolicy: 'keep' }));
    } else {
      assert.ok(c.rule, 'a refusal case names its rule');
      assert.throws(run, (err: unknown) => err instanceof ChatFormatError && new RegExp(c.rule!, 'i').test(err.message), `mistral_common: ${c.error}`);
    }
  });
}
