// Property-based fuzzing of the request schemas (issue #10): every generated body, well-formed
// or not, gets a 2xx or an OpenAI-shaped 4xx: never a 500, a hang or a crash; afterwards the
// engine is back at rest (0 running, 0 waiting, 0 KV usage). Bounded runs, seeded from the
// environment when given (FUZZ_SEED) so a failure can be replayed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertErrorShape, engineAtRest, serve, type Served } from '../helpers/hardening.js';

let s: Served;
before(async () => {
  s = await serve({ limitImagesPerPrompt: 2 });
});
after(() => s.close());

const ONE_PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

/** Any JSON value, shallow and short. */
const junk = fc.jsonValue({ maxDepth: 3 }).map((v) => v as unknown);
const tokenId = fc.oneof(fc.integer({ min: 0, max: 1279 }), fc.integer({ min: -5, max: 1 << 20 }), fc.double(), fc.string({ maxLength: 3 }));
const small = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: junk });

/** Sampling fields, mostly in range, sometimes anything. */
const sampling = fc.record(
  {
    model: small(fc.constantFrom('tiny', 'other', null)),
    n: small(fc.integer({ min: -1, max: 3 })),
    temperature: small(fc.double({ min: -1, max: 3, noNaN: true })),
    top_p: small(fc.double({ min: -0.5, max: 1.5, noNaN: true })),
    top_k: small(fc.integer({ min: -2, max: 50 })),
    min_p: small(fc.double({ min: -0.5, max: 1.5, noNaN: true })),
    presence_penalty: small(fc.double({ min: -3, max: 3, noNaN: true })),
    repetition_penalty: small(fc.double({ min: -1, max: 3, noNaN: true })),
    seed: small(fc.integer()),
    stop: small(fc.oneof(fc.string({ maxLength: 4 }), fc.array(fc.string({ maxLength: 4 }), { maxLength: 70 }))),
    stop_token_ids: small(fc.array(tokenId, { maxLength: 5 })),
    ignore_eos: small(fc.boolean()),
    min_tokens: small(fc.integer({ min: -1, max: 4 })),
    max_tokens: small(fc.integer({ min: -1, max: 6 })),
    logit_bias: small(fc.dictionary(fc.oneof(fc.integer({ min: 0, max: 1300 }).map(String), fc.string({ maxLength: 3 })), fc.double({ min: -200, max: 200, noNaN: true }), { maxKeys: 4 })),
    logprobs: small(fc.oneof(fc.integer({ min: -1, max: 25 }), fc.boolean())),
    top_logprobs: small(fc.integer({ min: -1, max: 25 })),
    prompt_logprobs: small(fc.integer({ min: -1, max: 3 })),
    echo: small(fc.boolean()),
    stream: small(fc.boolean()),
    stream_options: small(fc.record({ include_usage: small(fc.boolean()) }, { requiredKeys: [] })),
    skip_special_tokens: small(fc.boolean()),
    response_format: fc.constantFrom(undefined, null, { type: 'text' }),
  },
  { requiredKeys: [] },
);

const prompt = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }),
  fc.array(tokenId, { maxLength: 20 }),
  fc.array(fc.array(tokenId, { maxLength: 8 }), { maxLength: 3 }),
  junk,
);

const part = fc.oneof(
  fc.record({ type: fc.constant('text'), text: small(fc.string({ maxLength: 20 })) }),
  fc.record({ type: fc.constant('image_url'), image_url: fc.oneof(fc.constantFrom(ONE_PIXEL, 'http://127.0.0.1:1/x.png', 'file:///etc/passwd', '/etc/passwd', 'data:image/png;base64,AAAA', 'DATA:IMAGE/PNG;BASE64,' + ONE_PIXEL.slice(22)), fc.record({ url: fc.string({ maxLength: 20 }) })) }),
  junk,
);
const message = fc.record(
  {
    role: small(fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'nobody')),
    content: fc.oneof(fc.string({ maxLength: 30 }), fc.array(part, { maxLength: 3 }), fc.constant(null), junk),
    name: small(fc.string({ maxLength: 5 })),
  },
  { requiredKeys: ['role'] },
);

const request = fc.oneof(
  fc.record({ path: fc.constant('/v1/completions'), body: fc.tuple(sampling, small(prompt)).map(([b, p]) => ({ ...b, prompt: p })) }),
  fc.record({ path: fc.constant('/v1/chat/completions'), body: fc.tuple(sampling, small(fc.array(message, { maxLength: 4 }))).map(([b, m]) => ({ ...b, messages: m })) }),
  fc.record({ path: fc.constant('/tokenize'), body: fc.oneof(fc.record({ prompt: small(fc.string({ maxLength: 30 })), add_special_tokens: small(fc.boolean()) }, { requiredKeys: [] }), fc.record({ messages: small(fc.array(message, { maxLength: 3 })) })) }),
  fc.record({ path: fc.constant('/detokenize'), body: fc.record({ tokens: small(fc.array(tokenId, { maxLength: 10 })), model: small(fc.constant('tiny')) }, { requiredKeys: [] }) }),
  fc.record({ path: fc.constantFrom('/v1/completions', '/v1/chat/completions', '/tokenize', '/detokenize'), body: junk }),
);

test('fuzz: every generated body gets 2xx or an OpenAI-shaped 4xx; the engine ends at rest', { timeout: 240_000 }, async () => {
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
  await fc.assert(
    fc.asyncProperty(request, async ({ path, body }) => {
      const res = await fetch(`${s.base}${path}`, { method: 'POST', body: JSON.stringify(body) ?? 'null', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(20_000) });
      const text = await res.text();
      assert.ok(res.status < 500, `${res.status} for ${path} ${JSON.stringify(body)}: ${text.slice(0, 300)}`);
      if (res.status >= 400) assertErrorShape(JSON.parse(text), res.status);
      else if (res.headers.get('content-type')?.includes('text/event-stream')) {
        assert.ok(text.trimEnd().endsWith('data: [DONE]') || /"error"/.test(text), `a complete stream: ${text.slice(-200)}`);
        assert.doesNotMatch(text, /"code":5\d\d/);
      } else JSON.parse(text);
    }),
    { numRuns: 300, seed, interruptAfterTimeLimit: 200_000 },
  );
  await engineAtRest(s, 10_000);
  assert.equal((await fetch(`${s.base}/health`)).status, 200);
});
