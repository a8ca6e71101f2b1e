// `tramontane generate`: one request through the same engine as the library and the server (LLM),
// text streamed to stdout, or with --json one object shaped like vLLM's RequestOutput.
import type { Command } from '../command.js';
import { parseOrHelp } from '../args.js';
import { CliError } from '../errors.js';
import { createCliLogger } from '../logging.js';
import { beforeLoad, logKvCache } from '../modelSetup.js';
import { parseIdList } from '../parseNumbers.js';
import { weightLoadProgress } from '../progress.js';
import { GENERATE_SPEC } from '../specs/generate.js';
import { loadPromptImages } from '../generate/promptImages.js';
import { requestOutputJson } from '../generate/requestOutput.js';
import { LLM } from '../../engine/llm.js';
import type { RequestOutput } from '../../engine/outputs.js';
import type { PromptInput } from '../../engine/promptInput.js';
import { findImageSpans } from '../../tokenizer/imageSpans.js';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate text from a prompt (and images) on the CPU or a CUDA GPU',
  async run(args: string[]): Promise<number> {
    const parsed = parseOrHelp(GENERATE_SPEC, args);
    if (!parsed) return 0;
    const v = parsed.values;
    if ((v.prompt === undefined) === (v['prompt-tokens'] === undefined)) {
      throw new CliError("generate: give exactly one of --prompt and --prompt-tokens; see 'tramontane generate --help'");
    }
    const log = createCliLogger({ level: v['log-level'], format: v['log-format'] });
    const { 'max-tokens': maxTokens, temperature, 'top-p': topP, 'top-k': topK, 'min-p': minP, seed } = v;
    const logprobs = v.logprobs ?? -1;
    const promptLogprobs = v['prompt-logprobs'] ?? -1;
    const maxModelLen = v['max-model-len'];
    const promptTokens = v['prompt-tokens'] === undefined ? null : parseIdList('prompt-tokens', v['prompt-tokens']);

    const loadFormat = v['load-format'];
    await beforeLoad(log, { model: v.model, loadFormat, device: v.device, dtype: v.dtype });
    let llm: LLM;
    try {
      // One request: one sequence's worth of KV cache, the model on this thread.
      llm = await LLM.create({ model: v.model, tokenizer: v.tokenizer, loadFormat, quantization: v.quantization, device: v.device, maxModelLen, maxNumSeqs: 1, runnerThread: false, speculativeConfig: v['speculative-config'], onProgress: weightLoadProgress() });
      logKvCache(log, llm.components.runner.kvCache);
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
