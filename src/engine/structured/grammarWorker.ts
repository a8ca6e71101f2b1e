// The grammar worker thread: one xgrammar (wasm, single-threaded) instance holding the tokenizer
// info, the compiled grammars and every sequence's matcher. Compiles run here, off the event
// loop; messages are handled strictly in order, so an 'accept' is applied before a later 'fill'.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerInit } from './grammarProtocol.js';
import type { GrammarSpec } from './resolveStructured.js';
import { loadXGrammar, type XCompiledGrammar, type XGrammarCompiler, type XGrammarMatcher } from './xgrammarModule.js';

const port = parentPort;
if (!port) throw new Error('grammarWorker must run in a worker thread');
const init = workerData as WorkerInit;
const words = Math.ceil(init.vocabSize / 32);

const grammars = new Map<string, XCompiledGrammar>();
const matchers = new Map<string, XGrammarMatcher>();
/** Sequences whose matcher failed (an unknown grammar, a token the grammar refused). */
const broken = new Map<string, string>();
let compiler: XGrammarCompiler;
const eos = init.stopTokenIds[0];

function send(m: FromWorker): void {
  port!.postMessage(m);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function compile(c: XGrammarCompiler, spec: GrammarSpec): Promise<XCompiledGrammar> {
  switch (spec.kind) {
    case 'json':
      // One line, separators ", " and ": ", strict (no properties or items the schema does not
      // name). Not "any whitespace": a weak or random model then loops on whitespace until
      // max_tokens (a known failure of vLLM's default); the output is the same JSON.
      return c.compileJSONSchema(spec.source, false, -1, undefined, true);
    case 'jsonObject':
      return c.compileJSONSchema('{"type": "object"}', false, -1, undefined, false);
    case 'ebnf':
      return c.compileGrammar(spec.source, 'root');
    case 'regex': {
      const s = c as unknown as { compileStructuralTag(tag: object): Promise<XCompiledGrammar> };
      return s.compileStructuralTag({ type: 'structural_tag', format: { type: 'regex', pattern: spec.source } });
    }
  }
}

// xgrammar prints its errors to stderr before throwing them ("[FATAL] ...", "Aborted()"): the
// thrown text carries only "Aborted()", so the last printed line is kept as the reason.
let lastPrinted = '';
const origError = console.error.bind(console);
console.error = (...args: unknown[]) => {
  const line = args.map(String).join(' ');
  if (!/^Aborted\(/.test(line)) lastPrinted = line;
  if (process.env.TRAMONTANE_GRAMMAR_DEBUG === '1') origError(...args);
};
const origWarn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (process.env.TRAMONTANE_GRAMMAR_DEBUG === '1') origWarn(...args);
};
console.log = console.warn;
// Loaded after the console is redirected: its printer binds console.error when it loads.
const xg = loadXGrammar();

function reason(err: unknown): string {
  const m = message(err);
  if (/Aborted/.test(m) && lastPrinted) {
    const fatal = /\[FATAL\][^:]*:\d+:\s*(.*)$/s.exec(lastPrinted);
    return (fatal ? fatal[1] : lastPrinted).trim().slice(0, 500);
  }
  return m.slice(0, 500);
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.op) {
    case 'compile': {
      const t0 = performance.now();
      let error: string | null = null;
      if (!grammars.has(m.key)) {
        send({ op: 'compiling', id: m.id });
        lastPrinted = '';
        try {
          grammars.set(m.key, await compile(compiler, m.spec));
        } catch (err) {
          error = reason(err);
        }
      }
      send({ op: 'compiled', id: m.id, ms: performance.now() - t0, error });
      return;
    }
    case 'open': {
      const g = grammars.get(m.key);
      matchers.get(m.seq)?.dispose();
      matchers.delete(m.seq);
      broken.delete(m.seq);
      if (!g) {
        broken.set(m.seq, 'its grammar is not compiled');
        return;
      }
      matchers.set(m.seq, await xg.GrammarMatcher.createGrammarMatcher(g, [...init.stopTokenIds], false));
      return;
    }
    case 'accept': {
      for (const [seq, token] of m.items) {
        const mt = matchers.get(seq);
        if (!mt || broken.has(seq)) continue;
        if (mt.isTerminated()) continue; // the grammar is complete: only the stop token follows
        if (!mt.acceptToken(token)) broken.set(seq, `the grammar refused token ${token}`);
      }
      return;
    }
    case 'close':
      matchers.get(m.seq)?.dispose();
      matchers.delete(m.seq);
      broken.delete(m.seq);
      return;
    case 'release':
      grammars.get(m.key)?.dispose();
      grammars.delete(m.key);
      return;
    case 'fill': {
      const t0 = performance.now();
      const out = new Int32Array(m.buffer);
      const errors: (string | null)[] = [];
      for (let i = 0; i < m.seqs.length; i++) {
        const seq = m.seqs[i];
        const row = out.subarray(i * words, (i + 1) * words);
        const mt = matchers.get(seq);
        const bad = broken.get(seq) ?? (mt ? null : 'it has no grammar matcher');
        if (bad !== null || !mt) {
          errors.push(bad);
          row.fill(0);
          row[eos >>> 5] |= 1 << (eos & 31);
          continue;
        }
        if (mt.isTerminated()) {
          row.fill(0);
          row[eos >>> 5] |= 1 << (eos & 31);
        } else {
          row.set(await mt.getNextTokenBitmask());
        }
        errors.push(null);
      }
      send({ op: 'filled', id: m.id, ms: performance.now() - t0, errors });
      return;
    }
  }
}

async function main(): Promise<void> {
  const vocab: Uint8Array[] = [];
  for (let i = 0; i < init.vocabSize; i++) vocab.push(init.bytes.subarray(init.offsets[i], init.offsets[i + 1]));
  const info = await xg.TokenizerInfo.createTokenizerInfo(vocab, 'raw', false, init.vocabSize, [...init.stopTokenIds]);
  compiler = await xg.GrammarCompiler.createGrammarCompiler(info, false);
  let chain = Promise.resolve();
  port!.on('message', (m: ToWorker) => {
    chain = chain.then(() => handle(m)).catch((err: unknown) => origError(`grammar worker: ${message(err)}`));
  });
  send({ op: 'ready' });
}

void main();
