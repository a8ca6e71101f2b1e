import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// Tests are compiled to dist/test/...; fixtures stay in the source tree at test/fixtures.
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
export function fixture(...parts: string[]): string {
  return join(fixturesDir, ...parts);
}
/** A file the package ships under assets/ (e.g. the tokenizer corpus the benchmark and tests share). */
export function asset(...parts: string[]): string {
  return join(repoRoot, 'assets', ...parts);
}
