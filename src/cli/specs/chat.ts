// `tramontane chat`: its option table.
import { SESSION_HELP } from '../chat/session.js';
import { defineCommand } from '../options/spec.js';
import { LOG_OPTIONS, MODEL_OPTIONS } from './shared.js';

export const CHAT_SPEC = defineCommand({
  command: 'chat',
  summary: "An interactive terminal chat with a model loaded here (generate's model flags; default the embedded tiny model, random weights) or, with --url, a running OpenAI-compatible server.",
  options: {
    url: { kind: 'string', value: 'URL', group: 'server', help: 'chat with the server at this address (http://HOST:PORT) instead of a model loaded here' },
    'api-key': { kind: 'string', value: 'KEY', group: 'server', help: "the server's API key, with --url (also from TRAMONTANE_API_KEY)" },
    system: { kind: 'string', value: 'TEXT', group: 'chat', help: 'the system prompt (/system in the session changes it)' },
    temperature: { kind: 'number', value: 'T', min: 0, max: 2, default: 0.7, group: 'chat', help: 'sampling temperature; 0 is greedy' },
    'max-tokens': { kind: 'integer', value: 'N', min: 1, group: 'chat', help: 'most tokens an answer may have', defaultText: 'up to the context' },
    ...MODEL_OPTIONS,
    ...LOG_OPTIONS,
  },
  notes: ['With --url, --model is the served model name and the other model flags are refused.', ...SESSION_HELP.split('\n')],
});
