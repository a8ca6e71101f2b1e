// `tramontane generate`: one request through the model on the CPU, text streamed to stdout, or
// with --json one object shaped like vLLM's RequestOutput.
import type { Command } from '../command.js';
import { parseFlagsWithHelp } from '../args.js';
import { CliError } from '../errors.js';
import { loadModel, MODEL_FLAGS, MODEL_FLAGS_USAGE } from '../modelSetup.js';
import { parseIdList, parseNumberFlag } from '../parseNumbers.js';
import { openTextCodec, type TextCodec } from '../generate/textCodec.js';
import { loadPromptImages } from '../generate/promptImages.js';
import { requestOutputJson } from '../generate/requestOutput.js';
import { generate } from '../../model/generateLoop.js';
import { findImageSpans } from '../../model/imageSpans.js';
import { parseSpeculativeConfig, type SpeculativeConfig } from '../../engine/speculative/config.js';
import { createSpeculator } from '../../engine/speculative/createSpeculator.js';
import { generateWithEngine } from '../generate/engineGenerate.js';

const USAGE = `usage: tramontane generate (--prompt <text> | --prompt-tokens <id,id,...>)
  ${MODEL_FLAGS_USAGE}
  [--image <path|url>]... [--max-tokens N] [--temperature T] [--top-p P] [--top-k K] [--min-p P]
  [--seed S] [--logprobs K] [--prompt-logprobs K] [--json] [--max-model-len N]
  [--speculative-config '{"method":"ngram","num_speculative_tokens":4}' | '{"method":"draft_model","model":DIR,"num_speculative_tokens":4}']
Without --model it runs the embedded tiny checkpoint (random weights: meaningless text). --device
defaults to cuda when a CUDA driver and a GPU are present, else cpu.`;

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate text from a prompt (and images) on the CPU or a CUDA GPU',
  async run(args: string[]): Promise<number> {
    const parsed = parseFlagsWithHelp('generate', USAGE, args, {
      ...MODEL_FLAGS,
      prompt: { type: 'string' },
      'prompt-tokens': { type: 'string' },
      image: { type: 'string', multiple: true },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      'min-p': { type: 'string' },
      seed: { type: 'string' },
      logprobs: { type: 'string' },
      'prompt-logprobs': { type: 'string' },
      json: { type: 'boolean' },
      'speculative-config': { type: 'string' },
    });
    if (!parsed) return 0;
    const v = parsed.values;
    if ((v.prompt === undefined) === (v['prompt-tokens'] === undefined)) {
      throw new CliError(`generate: give exactly one of --prompt and --prompt-tokens\n${USAGE}`);
    }
    const maxTokens = parseNumberFlag('max-tokens', v['max-tokens'], { integer: true, min: 1 }) ?? 16;
    const temperature = parseNumberFlag('temperature', v.temperature, { min: 0 }) ?? 1;
    const topP = parseNumberFlag('top-p', v['top-p'], { min: 0, minExclusive: true, max: 1 }) ?? 1;
    const topK = parseNumberFlag('top-k', v['top-k'], { integer: true, min: -1 }) ?? 0;
    const minP = parseNumberFlag('min-p', v['min-p'], { min: 0, max: 1 }) ?? 0;
    const seed = parseNumberFlag('seed', v.seed, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
    const logprobs = parseNumberFlag('logprobs', v.logprobs, { integer: true, min: 0, max: 20 }) ?? -1;
    const promptLogprobs = parseNumberFlag('prompt-logprobs', v['prompt-logprobs'], { integer: true, min: 0, max: 20 }) ?? -1;
    const maxModelLen = parseNumberFlag('max-model-len', v['max-model-len'], { integer: true, min: 2 });
    const promptTokens = v['prompt-tokens'] === undefined ? null : parseIdList('prompt-tokens', v['prompt-tokens']);

    let speculative: SpeculativeConfig | null = null;
    try {
      speculative = v['speculative-config'] === undefined ? null : parseSpeculativeConfig(v['speculative-config']);
    } catch (e) {
      throw new CliError(`--speculative-config: ${(e as Error).message}`);
    }
    // A draft model loads first, so the target's memory plan sees it.
    const draft =
      speculative?.method === 'draft_model'
        ? await loadModel({ model: speculative.model, loadFormat: speculative.loadFormat ?? v['load-format'], device: v.device, maxModelLen })
        : null;
    let model;
    try {
      model = await loadModel({ model: v.model, tokenizer: v.tokenizer, loadFormat: v['load-format'], device: v.device, maxModelLen });
    } catch (e) {
      await draft?.close();
      throw e;
    }
    try {
      const cfg = model.source.config;
      const tokenizerPath = model.source.tokenizerPath;
      if (tokenizerPath === null) throw new CliError(`no tekken.json for ${model.source.origin}: pass --tokenizer <tekken.json>`);
      const codec: TextCodec = openTextCodec(tokenizerPath);
      const sources = v.image ?? [];
      if (promptTokens) {
        // Images fill the [IMG] runs of the given ids in order: the counts must agree.
        let runs: number;
        try {
          runs = findImageSpans(promptTokens, cfg).length;
        } catch (e) {
          throw new CliError(`--prompt-tokens: ${(e as Error).message}`);
        }
        if (runs !== sources.length) {
          throw new CliError(`--prompt-tokens has ${runs} image token run(s) ([IMG]...[IMG_END]) but ${sources.length} --image given`);
        }
      }
      const images = await loadPromptImages(sources, cfg);
      let ids: number[];
      if (promptTokens) {
        ids = promptTokens;
      } else if (images.length > 0) {
        // The model card's base-model example: image tokens, then the text; no BOS.
        ids = [...images.flatMap((img) => img.tokens), ...codec.encode(v.prompt as string)];
      } else {
        ids = [codec.bosId, ...codec.encode(v.prompt as string)];
      }
      const stream = codec.streamDecoder();
      let text = '';
      const emit = (piece: string) => {
        text += piece;
        if (!v.json && piece) process.stdout.write(piece);
      };
      let result;
      const options = {
        maxTokens, temperature, topP, topK, minP, seed, logprobs, promptLogprobs,
        eosTokenId: codec.eosId,
        onToken: (id: number) => emit(stream.push(id)),
      };
      try {
        if (speculative) {
          const speculator = await createSpeculator(speculative, { vocabSize: model.runner.limits.vocabSize, eosTokenId: codec.eosId }, draft?.runner ?? null);
          const spans = findImageSpans(ids, cfg);
          const engineImages = images.map((img, k) => ({ pixels: img.pixels, height: img.height, width: img.width, spanStart: spans[k].start, spanLength: spans[k].length }));
          result = await generateWithEngine(model.runner, ids, engineImages, options, speculator);
        } else {
          result = await generate(model.runner, cfg, ids, images, options);
        }
      } catch (e) {
        throw e instanceof CliError ? e : new CliError((e as Error).message);
      }
      emit(stream.flush());
      if (v.json) {
        const decodeOne = (id: number) => {
          const d = codec.streamDecoder();
          return d.push(id) + d.flush();
        };
        console.log(JSON.stringify(requestOutputJson(result, v.prompt ?? null, text, decodeOne)));
      } else {
        process.stdout.write('\n');
      }
      return 0;
    } finally {
      await model.close();
      await draft?.close(); // after the speculator closed its runner (closing twice is a no-op)
    }
  },
};
