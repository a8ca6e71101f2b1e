// The shape of src/, checked on every `npm test` (no build needed: it reads the .ts sources).
//   - layers: an import points down or sideways, never up. Ranks, lowest first:
//       tokenizer, image (and version.ts)  <  backend  <  model  <  engine  <  server  <  index.ts  <  cli
//   - no import cycle between files (type-only imports count: a circle of types still ties the
//     files together);
//   - file size: a note above 400 lines, a failure above 800;
//   - a document a comment cites (docs/NAME.md, SPEC.md) exists in the repository.
// Relative specifiers only ('./x.js', '../y/index.js'); packages are outside the graph.
// Usage: node scripts/check-structure.mjs [repoRoot]. Exit 1 when any rule fails.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const RANKS = { tokenizer: 0, image: 0, version: 0, backend: 1, model: 2, engine: 3, server: 4, index: 5, cli: 6 };
const WARN_LINES = 400;
const MAX_LINES = 800;

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.m?ts$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The layer of a file: its first folder under src/, or its own name for a top-level file. */
function layerOf(srcDir, file) {
  const top = relative(srcDir, file).split('/')[0].replace(/\.m?ts$/, '');
  if (!(top in RANKS)) throw new Error(`${relative(dirname(srcDir), file)}: src/${top} belongs to no layer; add it to RANKS in scripts/check-structure.mjs`);
  return top;
}

/** Relative module specifiers of static imports, re-exports and dynamic import()s. Comments are
 *  stripped first so that an example in a comment is not an edge. */
export function importSpecifiers(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const specs = [];
  const patterns = [/\b(?:import|export)\s[^'"`;]*?\sfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const re of patterns) for (const m of code.matchAll(re)) if (m[1].startsWith('.')) specs.push(m[1]);
  return specs;
}

function resolveSpecifier(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

/** Strongly connected components of 2+ files (Tarjan, iterative so deep graphs cannot overflow). */
function cycles(graph) {
  let next = 0;
  const index = new Map(), low = new Map(), onStack = new Set(), stack = [], found = [];
  for (const start of graph.keys()) {
    if (index.has(start)) continue;
    const work = [[start, [...graph.get(start)], 0]];
    index.set(start, next); low.set(start, next); next++; stack.push(start); onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, edges] = frame;
      if (frame[2] < edges.length) {
        const w = edges[frame[2]++];
        if (!index.has(w)) {
          index.set(w, next); low.set(w, next); next++; stack.push(w); onStack.add(w);
          work.push([w, [...(graph.get(w) ?? [])], 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
        continue;
      }
      work.pop();
      if (work.length > 0) { const parent = work[work.length - 1][0]; low.set(parent, Math.min(low.get(parent), low.get(v))); }
      if (low.get(v) === index.get(v)) {
        const comp = [];
        let w;
        do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
        if (comp.length > 1) found.push(comp);
      }
    }
  }
  return found;
}

export function checkStructure(dir = root) {
  const files = sourceFiles(join(dir, 'src'));
  const failures = [], warnings = [];
  const graph = new Map();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const rel = relative(dir, file);
    const srcDir = join(dir, 'src');
    const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    if (lines > MAX_LINES) failures.push(`${rel}: ${lines} lines, over the ${MAX_LINES}-line limit`);
    else if (lines > WARN_LINES) warnings.push(`${rel}: ${lines} lines (over ${WARN_LINES}: split by concern)`);
    for (const m of new Set(text.match(/\b(?:docs\/[\w.-]+\.md|SPEC\.md)\b/g) ?? [])) {
      const cited = m === 'SPEC.md' ? ['SPEC.md', 'docs/SPEC.md'] : [m];
      if (!cited.some((c) => existsSync(join(dir, c)))) failures.push(`${rel}: cites ${m}, which the repository does not have`);
    }
    const edges = new Set();
    const layer = layerOf(srcDir, file);
    for (const spec of importSpecifiers(text)) {
      const target = resolveSpecifier(file, spec);
      if (target === null) continue; // tsc reports an unresolved import
      if (!target.startsWith(srcDir + '/')) { failures.push(`${rel}: imports ${spec}, outside src/`); continue; }
      edges.add(target);
      const to = layerOf(srcDir, target);
      if (RANKS[to] > RANKS[layer]) failures.push(`${rel}: upward import of ${relative(dir, target)} (${layer} may not import ${to})`);
    }
    graph.set(file, edges);
  }
  for (const comp of cycles(graph)) failures.push(`import cycle: ${comp.map((f) => relative(dir, f)).sort().join(' <-> ')}`);
  return { files: files.length, failures, warnings };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { files, failures, warnings } = checkStructure(root);
  for (const w of warnings) console.log(`structure note: ${w}`);
  for (const f of failures) console.error(`structure FAIL: ${f}`);
  console.log(`structure: ${files} files, ${failures.length} failures, ${warnings.length} notes`);
  process.exit(failures.length > 0 ? 1 : 0);
}
