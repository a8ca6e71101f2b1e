// Every command's option table, in the order the README and `tramontane --help` list them.
import type { CommandSpec } from '../options/spec.js';
import { BENCH_TARGET_SPECS } from './bench.js';
import { CHAT_SPEC } from './chat.js';
import { GENERATE_SPEC } from './generate.js';
import { SERVE_SPEC } from './serve.js';
import { DETOKENIZE_SPEC, TOKENIZE_SPEC } from './tokenize.js';

export const COMMAND_SPECS: readonly CommandSpec[] = [GENERATE_SPEC, SERVE_SPEC, CHAT_SPEC, TOKENIZE_SPEC, DETOKENIZE_SPEC, ...BENCH_TARGET_SPECS];
