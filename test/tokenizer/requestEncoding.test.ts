// mistral_common request encoding: image token layout, base-model user content, v7 chat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeChat, ChatFormatError } from '../../src/tokenizer/chatEncoding.js';
import { encodeUserContent, imageTokenIds, type ImageChunk } from '../../src/tokenizer/requestEncoding.js';
import { realTekkenizer } from '../helpers/tekkenFixture.js';

const tok = realTekkenizer();
const enc = (s: string) => tok.encode(s);
const [BOS, EOS, INST, END_INST, IMG, BREAK, IMG_END, SYS, END_SYS] = [1, 2, 3, 4, 10, 12, 13, 17, 18];

test('image tokens: ([IMG] * W + [IMG_BREAK]) * H with the last replaced by [IMG_END]', () => {
  assert.deepEqual(imageTokenIds(3, 2), [IMG, IMG, IMG, BREAK, IMG, IMG, IMG, IMG_END]);
  assert.deepEqual(imageTokenIds(1, 1), [IMG, IMG_END]);
  const big = imageTokenIds(55, 55);
  assert.equal(big.length, 56 * 55);
  assert.equal(big.filter((id) => id === IMG).length, 55 * 55);
  assert.throws(() => imageTokenIds(0, 3), /widthTokens must be a positive integer, got 0/);
  assert.throws(() => imageTokenIds(2, 1.5), /heightTokens must be a positive integer, got 1.5/);
});

test('base-model user content: chunks in order, no BOS, no [INST]', () => {
  const image = { type: 'image', widthTokens: 2, heightTokens: 2, tag: 'cat.png' } as const;
  const out = encodeUserContent(tok, [image, { type: 'text', text: 'Describe this image.' }]);
  assert.deepEqual(out.ids, [...imageTokenIds(2, 2), ...enc('Describe this image.')]);
  assert.deepEqual(out.images, [image]);
  const textFirst = encodeUserContent(tok, [{ type: 'text', text: 'A' }, image]);
  assert.deepEqual(textFirst.ids, [...enc('A'), ...imageTokenIds(2, 2)]);
  assert.deepEqual(encodeUserContent(tok, 'plain').ids, enc('plain'));
  assert.deepEqual(encodeUserContent(tok, [image]).ids, imageTokenIds(2, 2));
});

test('v7 chat: <s>, system in place between its tokens, [INST] user [/INST], assistant text</s>', () => {
  const out = encodeChat(tok, [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Hello, how are you?' },
    { role: 'assistant', content: 'Fine, and you?  ' },
    { role: 'user', content: "I'm doing great!" },
  ]);
  assert.deepEqual(out.ids, [
    BOS, SYS, ...enc('You are terse.'), END_SYS,
    INST, ...enc('Hello, how are you?'), END_INST,
    ...enc('Fine, and you?'), EOS,
    INST, ...enc("I'm doing great!"), END_INST,
  ]);
  assert.deepEqual(out.images, []);
  assert.deepEqual(encodeChat(tok, [{ role: 'user', content: 'Hello, how are you?' }]).ids, [BOS, INST, ...enc('Hello, how are you?'), END_INST]);
});

test('v7 chat: an image after the only text chunk moves first; images come back in token order', () => {
  const a: ImageChunk = { type: 'image', widthTokens: 2, heightTokens: 1 };
  const b: ImageChunk = { type: 'image', widthTokens: 1, heightTokens: 3 };
  const swapped = encodeChat(tok, [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, a] }]);
  assert.deepEqual(swapped.ids, [BOS, INST, ...imageTokenIds(2, 1), ...enc('What is this?'), END_INST]);
  const three = encodeChat(tok, [{ role: 'user', content: [{ type: 'text', text: 'Compare' }, b, a] }]);
  assert.deepEqual(three.ids, [BOS, INST, ...enc('Compare'), ...imageTokenIds(1, 3), ...imageTokenIds(2, 1), END_INST]);
  assert.deepEqual(three.images, [b, a]);
});

test('v7 chat normalisation: consecutive user or assistant messages merge with "\\n\\n"', () => {
  const out = encodeChat(tok, [
    { role: 'user', content: 'one' },
    { role: 'user', content: [{ type: 'text', text: 'two' }, { type: 'text', text: 'three' }] },
    { role: 'assistant', content: 'x' },
    { role: 'assistant', content: 'y', prefix: true },
  ]);
  assert.deepEqual(out.ids, [BOS, INST, ...enc('one\n\ntwo\n\nthree'), END_INST, ...enc('x\n\ny')]);
  const systems = encodeChat(tok, [
    { role: 'system', content: 'a' },
    { role: 'system', content: 'b' },
    { role: 'user', content: 'q' },
  ]);
  assert.deepEqual(systems.ids, [BOS, SYS, ...enc('a'), END_SYS, SYS, ...enc('b'), END_SYS, INST, ...enc('q'), END_INST]);
  assert.deepEqual(encodeChat(tok, []).ids, [BOS, INST, END_INST]);
});

test('v7 chat: continuing the final assistant message leaves out </s>; bad chats are refused', () => {
  const out = encodeChat(tok, [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'The answer is' }], { continueFinalMessage: true });
  assert.deepEqual(out.ids, [BOS, INST, ...enc('q'), END_INST, ...enc('The answer is')]);
  assert.throws(() => encodeChat(tok, [{ role: 'user', content: 'q' }], { continueFinalMessage: true }), ChatFormatError);
  assert.throws(() => encodeChat(tok, [{ role: 'user', content: 'q' }, { role: 'assistant', content: '' }]), /has no content/);
  assert.throws(() => encodeChat(tok, [{ role: 'tool', content: 'q' } as never]), /unknown role "tool"/);
});
