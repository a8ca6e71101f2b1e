// scripts/check-structure.mjs (run by `npm test`): it must pass on this repository and fail on a
// tree with an upward import, a cycle, or an over-long file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/paths.js';

interface StructureReport {
  readonly files: number;
  readonly failures: string[];
  readonly warnings: string[];
}
type Checker = (dir: string) => StructureReport;

async function checker(): Promise<Checker> {
  const mod = (await import(pathToFileURL(join(repoRoot, 'scripts', 'check-structure.mjs')).href)) as { checkStructure: Checker };
  return mod.checkStructure;
}

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'structure-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('check-structure: this repository has no upward import, no cycle, no file over 800 lines', async () => {
  const r = (await checker())(repoRoot);
  assert.ok(r.files > 100);
  assert.deepEqual(r.failures, []);
});

test('check-structure: a downward tree passes; an upward import, a type-only cycle, an 801-line file and a citation of a missing document fail', async () => {
  const check = await checker();
  const good = tree({
    'src/backend/a.ts': "import type { T } from '../tokenizer/t.js';\nexport type A = T;\n",
    'src/tokenizer/t.ts': 'export type T = number;\n',
    'src/model/m.ts': "import type { A } from '../backend/a.js';\n// import { E } from '../engine/e.js'; (a comment, not an edge)\nexport type M = A;\n",
  });
  const bad = tree({
    'src/backend/a.ts': "import type { M } from '../model/m.js';\nexport type A = M;\n",
    'src/model/m.ts': 'export type M = number;\n',
    'src/engine/x.ts': "import type { Y } from './y.js';\nexport type X = Y | 1;\n",
    'src/engine/y.ts': "export type { X as Y } from './x.js';\n",
    'src/server/long.ts': 'export const a = 1;\n'.repeat(801),
    'src/image/rule.ts': '// the size rule (SPEC.md §6; docs/images.md)\nexport const r = 1;\n',
    'docs/images.md': '# images\n',
  });
  try {
    assert.deepEqual(check(good).failures, []);
    const failures = check(bad).failures.join('\n');
    assert.match(failures, /src\/backend\/a\.ts: upward import of src\/model\/m\.ts/);
    assert.match(failures, /import cycle: src\/engine\/x\.ts <-> src\/engine\/y\.ts/);
    assert.match(failures, /src\/server\/long\.ts: 801 lines/);
    assert.match(failures, /src\/image\/rule\.ts: cites SPEC\.md/);
    assert.doesNotMatch(failures, /cites docs\/images\.md/);
    assert.equal(check(bad).failures.length, 4);
  } finally {
    rmSync(good, { recursive: true, force: true });
    rmSync(bad, { recursive: true, force: true });
  }
});
