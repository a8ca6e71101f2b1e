import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { chatCommand } from './chat.js';
import { detokenizeCommand } from './detokenize.js';
import { generateCommand } from './generate.js';
import { serveCommand } from './serve.js';
import { tokenizeCommand } from './tokenize.js';

// One line per subcommand; each lives in its own file in this folder.
export const commands: readonly Command[] = [generateCommand, serveCommand, chatCommand, benchCommand, tokenizeCommand, detokenizeCommand];
