// Loads @mlc-ai/web-xgrammar. Its one file is a UMD/CommonJS bundle (the wasm inlined) although
// its package.json says "type": "module", so Node's ESM loader cannot run it: it is compiled here
// as a CommonJS module, which its Node branch expects (require, __filename).
import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

/** The part of xgrammar's API this engine uses. */
export interface XGrammar {
  TokenizerInfo: {
    createTokenizerInfo(vocab: (string | Uint8Array)[], vocabType: string, prependSpace: boolean, vocabSize: number, stopTokenIds: number[]): Promise<XTokenizerInfo>;
  };
  GrammarCompiler: { createGrammarCompiler(info: XTokenizerInfo, cacheEnabled?: boolean): Promise<XGrammarCompiler> };
  GrammarMatcher: { createGrammarMatcher(compiled: XCompiledGrammar, stopTokens?: number[], terminateWithoutStop?: boolean): Promise<XGrammarMatcher> };
}
export interface XTokenizerInfo {
  getVocabSize(): number;
  dispose(): void;
}
export interface XCompiledGrammar {
  dispose(): void;
}
export interface XGrammarCompiler {
  compileJSONSchema(schema: string, anyWhitespace?: boolean, indent?: number, separators?: [string, string], strictMode?: boolean, maxWhitespaceCnt?: number): Promise<XCompiledGrammar>;
  compileBuiltinJSONGrammar(): Promise<XCompiledGrammar>;
  compileGrammar(ebnf: string, rootRule?: string): Promise<XCompiledGrammar>;
  dispose(): void;
}
export interface XGrammarMatcher {
  acceptToken(id: number): boolean;
  getNextTokenBitmask(): Promise<Int32Array>;
  isTerminated(): boolean;
  rollBack(n: number): void;
  dispose(): void;
}

let loaded: XGrammar | null = null;

export function loadXGrammar(): XGrammar {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const file = require.resolve('@mlc-ai/web-xgrammar');
  type CjsModule = { filename: string; paths: string[]; exports: unknown; _compile(src: string, file: string): void };
  const M = Module as unknown as { new (id: string): CjsModule; _nodeModulePaths(p: string): string[] };
  const m = new M(file);
  m.filename = file;
  m.paths = M._nodeModulePaths(file);
  m._compile(readFileSync(file, 'utf8'), file);
  loaded = m.exports as XGrammar;
  return loaded;
}
