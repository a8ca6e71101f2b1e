// `tramontane generate`: one request through the same engine as the library and the server (LLM),
// text streamed to stdout, or with --json one object shaped like vLLM's RequestOutput.
import type { Command } from '../command.js';
import { parseFlagsWithHelp } from '../args.js';
import { CliError } from '../errors.js';
import { checkModelChoice, checkQuantizationFlag, MODEL_FLAGS, MODEL_FLAGS_USAGE } from '../modelSetup.js';
import { parseIdList, parseNumberFlag } from '../parseNumbers.js';
import { kvCacheLine, weightLoadProgress } from '../progress.js';
import { loadPromptImages } from '../generate/promptImages.js';
import { requestOutputJson } from '../generate/requestOutput.js';
import { LLM } from '../../engine/llm.js';
import type { RequestOutput } from '../../engine/outputs.js';
import type { PromptInput } from '../../engine/promptInput.js';
import { findImageSpans } from '../../tokenizer/imageSpans.js';

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

    const loadFormat = checkModelChoice(v['load-format'], v.device);
    const quantization = checkQuantizationFlag(v.quantization);
    let llm: LLM;
    try {
      // One request: one sequence's worth of KV cache, the model on this thread.
      llm = await LLM.create({ model: v.model, tokenizer: v.tokenizer, loadFormat, quantization, device: v.device, maxModelLen, maxNumSeqs: 1, runnerThread: false, speculativeConfig: v['speculative-config'], onProgress: weightLoadProgress() });
      const kv = llm.components.runner.kvCache;
      console.error(`tramontane: ${kvCacheLine(kv.numBlocks * kv.blockSize, kv.bytes ?? 0)}`);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    try {
      const sources = v.image ?? [];
      if (promptTokens) {
        // Images fill the [IMG] runs of the given ids in order: the counts must agree.
        let runs: number;
        try {
          runs = findImageSpans(promptTokens, llm.components.imageTokenIds).length;
        } catch (e) {
          throw new CliError(`--prompt-tokens: ${(e as Error).message}`);
        }
        if (runs !== sources.length) {
          throw new CliError(`--prompt-tokens has ${runs} image token run(s) ([IMG]...[IMG_END]) but ${sources.length} --image given`);
        }
      }
      const images = await loadPromptImages(sources, llm.components.images);
      const tokenizer = llm.getTokenizer();
      let prompt: PromptInput;
      if (promptTokens) {
        prompt = { promptTokenIds: promptTokens, multiModalData: { image: images } };
      } else if (images.length > 0) {
        // The model card's base-model example: image tokens, then the text; no BOS.
        prompt = { promptTokenIds: [...images.flatMap((img) => img.tokens), ...tokenizer.encode(v.prompt as string, { bos: false, eos: false })], multiModalData: { image: images } };
      } else {
        prompt = v.prompt as string; // BOS, then the text's ids
      }
      const params = { maxTokens, temperature, topP, topK, minP, seed: seed ?? null, logprobs: logprobs >= 0 ? logprobs : null, promptLogprobs: promptLogprobs >= 0 ? promptLogprobs : null };
      let last: RequestOutput | null = null;
      let printed = 0;
      try {
        for await (const out of llm.generateStream(prompt, params)) {
          last = out;
          const text = out.outputs[0].text;
          if (!v.json && text.length > printed) process.stdout.write(text.slice(printed));
          printed = text.length;
        }
      } catch (e) {
        throw e instanceof CliError ? e : new CliError((e as Error).message);
      }
      if (!last) throw new CliError('generate: the engine returned no output');
      if (v.json) {
        const decodeOne = (id: number) => {
          const d = tokenizer.newDetokenizer({ skipSpecialTokens: true });
          return d.push(id) + d.flush();
        };
        console.log(JSON.stringify(requestOutputJson({ ...last, prompt: v.prompt ?? null }, decodeOne)));
      } else {
        process.stdout.write('\n');
      }
      return 0;
    } finally {
      await llm.close();
    }
  },
};
