// Reads the transformers reference of a tiny model (test/fixtures/models/<name>/reference.json
// + reference.bin; format in test/fixtures/models/README.md).
import { readFileSync } from 'node:fs';
import { fixture } from './paths.js';

interface Blob {
  offset: number;
  length: number;
  dtype: 'f32' | 'bf16';
}

export interface ReferenceImage {
  readonly height: number;
  readonly width: number;
  readonly pixels: Float32Array;
}

export interface ReferencePrompt {
  readonly name: string;
  readonly tokenIds: number[];
  readonly images: ReferenceImage[];
  readonly greedy: number[];
  /** prompt + greedy; topIds[i] / topLogprobs[i] predict sequence[i + 1]. */
  readonly sequence: number[];
  readonly topIds: number[][];
  readonly topLogprobs: number[][];
  readonly lastPromptLogprobs: Float32Array;
}

export interface ModelReference {
  readonly topK: number;
  readonly prompts: ReferencePrompt[];
}

export function readModelReference(model: string): ModelReference {
  const json = JSON.parse(readFileSync(fixture('models', model, 'reference.json'), 'utf8'));
  const bin = readFileSync(fixture('models', model, 'reference.bin'));
  const blob = (b: Blob): Float32Array => {
    const out = new Float32Array(b.length);
    for (let i = 0; i < b.length; i++) {
      out[i] = b.dtype === 'f32' ? bin.readFloatLE(b.offset + 4 * i) : new Float32Array(new Uint32Array([bin.readUInt16LE(b.offset + 2 * i) << 16]).buffer)[0];
    }
    return out;
  };
  return {
    topK: json.top_k,
    prompts: json.prompts.map((p: Record<string, unknown>) => ({
      name: p.name,
      tokenIds: p.token_ids,
      images: (p.images as { height: number; width: number; pixels: Blob }[]).map((i) => ({ height: i.height, width: i.width, pixels: blob(i.pixels) })),
      greedy: p.greedy,
      sequence: p.sequence,
      topIds: p.top_ids,
      topLogprobs: p.top_logprobs,
      lastPromptLogprobs: blob(p.last_prompt_logprobs as Blob),
    })),
  };
}
