// What every route handler shares: the LLM, the served name, limits.
import type { LLM } from '../engine/llm.js';
import { ApiError } from './errors.js';

export interface ServerOptions {
  readonly servedModelName?: string;
  /** When set, every route but /health needs `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string | null;
  /** Largest request body in bytes (413 above). */
  readonly bodyLimit?: number;
  /** Most images one request may carry. */
  readonly limitImagesPerPrompt?: number;
  /** vLLM's --enable-auto-tool-choice: tool_choice "auto" (the default with tools) is served. */
  readonly enableAutoToolChoice?: boolean;
}

export class ServerContext {
  readonly servedModelName: string;
  readonly apiKey: string | null;
  readonly limitImagesPerPrompt: number;
  readonly enableAutoToolChoice: boolean;

  constructor(
    readonly llm: LLM,
    options: ServerOptions,
  ) {
    this.servedModelName = options.servedModelName ?? llm.modelName;
    this.apiKey = options.apiKey ?? null;
    this.limitImagesPerPrompt = options.limitImagesPerPrompt ?? 16;
    this.enableAutoToolChoice = options.enableAutoToolChoice ?? false;
  }

  checkModel(model: string | null | undefined): void {
    if (model != null && model !== this.servedModelName) {
      throw new ApiError(404, `The model \`${model}\` does not exist.`, 'model');
    }
  }
}
