// `tramontane tokenize` and `tramontane detokenize`: their option tables.
import { defineCommand } from '../options/spec.js';

export const TOKENIZE_SPEC = defineCommand({
  command: 'tokenize',
  summary: 'Print the token ids of a text (--text, or stdin).',
  options: {
    tokenizer: { kind: 'string', value: 'FILE', help: 'the tekken.json to encode with (required)' },
    text: { kind: 'string', value: 'TEXT', help: 'the text', defaultText: 'stdin' },
    bos: { kind: 'boolean', help: 'prepend BOS (<s>)' },
    eos: { kind: 'boolean', help: 'append EOS (</s>)' },
    json: { kind: 'boolean', help: 'print {"ids": [...]} instead of ids separated by spaces' },
  },
});

export const DETOKENIZE_SPEC = defineCommand({
  command: 'detokenize',
  summary: 'Print the text of token ids (--ids, or stdin: ids separated by commas or spaces, a JSON array, or {"ids": [...]}).',
  options: {
    tokenizer: { kind: 'string', value: 'FILE', help: 'the tekken.json to decode with (required)' },
    ids: { kind: 'string', value: 'ID,ID,...', help: 'the ids', defaultText: 'stdin' },
    'keep-special': { kind: 'boolean', help: 'write special tokens (<s>, [INST], ...) as text instead of dropping them' },
  },
});
