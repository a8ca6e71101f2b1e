// Shared by the tokenize and detokenize commands: load --tokenizer, read stdin.
import { Tekkenizer } from '../../tokenizer/tekkenizer.js';
import { CliError } from '../errors.js';

export function loadTokenizer(path: string | undefined, command: string): Tekkenizer {
  if (path === undefined) throw new CliError(`${command}: --tokenizer <tekken.json> is required`);
  try {
    return Tekkenizer.fromFile(path);
  } catch (err) {
    throw new CliError(`${command}: ${(err as Error).message}`);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
