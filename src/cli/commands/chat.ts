// `tramontane chat`: an interactive terminal chat with a model loaded here (generate's model
// flags; by default the embedded tiny model) or with a running server (--url, --api-key).
import type { Command } from '../command.js';
import { parseFlagsWithHelp } from '../args.js';
import { CliError } from '../errors.js';
import { checkModelChoice, checkQuantizationFlag, MODEL_FLAGS, MODEL_FLAGS_USAGE } from '../modelSetup.js';
import { parseNumberFlag } from '../parseNumbers.js';
import { weightLoadProgress } from '../progress.js';
import type { ChatClient } from '../chat/chatClient.js';
import { LocalChatClient } from '../chat/localChatClient.js';
import { RemoteChatClient } from '../chat/remoteChatClient.js';
import { runChatSession, SESSION_HELP } from '../chat/session.js';
import { LLM } from '../../engine/llm.js';

const USAGE = `usage: tramontane chat [${MODEL_FLAGS_USAGE.slice(1, -1)}] [--max-model-len N]
       tramontane chat --url http://HOST:PORT [--api-key KEY] [--model SERVED_NAME]
  [--system <text>] [--temperature T] [--max-tokens N]
Talks to a model loaded in this process (default: the embedded tiny checkpoint, random weights:
meaningless text) or, with --url, to a running OpenAI-compatible server (the API key may also
come from TRAMONTANE_API_KEY). Without --max-tokens an answer may fill the context.
${SESSION_HELP}`;

/** Images one conversation may carry: the server's default --limit-mm-per-prompt. */
const MAX_IMAGES = 16;

export const chatCommand: Command = {
  name: 'chat',
  summary: 'chat in the terminal with a model or a running server (streaming, images)',
  async run(args: string[]): Promise<number> {
    const parsed = parseFlagsWithHelp('chat', USAGE, args, {
      ...MODEL_FLAGS,
      url: { type: 'string' },
      'api-key': { type: 'string' },
      system: { type: 'string' },
      temperature: { type: 'string' },
      'max-tokens': { type: 'string' },
    });
    if (!parsed) return 0;
    const v = parsed.values;
    const temperature = parseNumberFlag('temperature', v.temperature, { min: 0, max: 2 }) ?? 0.7;
    const maxTokens = parseNumberFlag('max-tokens', v['max-tokens'], { integer: true, min: 1 }) ?? null;
    let client: ChatClient;
    if (v.url !== undefined) {
      for (const local of ['tokenizer', 'load-format', 'quantization', 'device', 'max-model-len'] as const) {
        if (v[local] !== undefined) throw new CliError(`chat: --${local} chooses a local model; with --url the server has its own`);
      }
      client = await RemoteChatClient.connect(v.url, v['api-key'] ?? process.env.TRAMONTANE_API_KEY ?? null, v.model);
    } else {
      if (v['api-key'] !== undefined) throw new CliError('chat: --api-key goes with --url');
      const loadFormat = checkModelChoice(v['load-format'], v.device);
      const quantization = checkQuantizationFlag(v.quantization);
      const maxModelLen = parseNumberFlag('max-model-len', v['max-model-len'], { integer: true, min: 2 });
      try {
        const llm = await LLM.create({ model: v.model, tokenizer: v.tokenizer, loadFormat, quantization, device: v.device, maxModelLen, maxNumSeqs: 1, onProgress: weightLoadProgress() });
        client = new LocalChatClient(llm);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      if (v.model === undefined) console.error('tramontane: the embedded tiny model has random weights: its answers are meaningless text');
    }
    try {
      await runChatSession(client, { sampling: { temperature, maxTokens }, system: v.system ?? null, maxImages: MAX_IMAGES });
    } finally {
      await client.close();
    }
    return 0;
  },
};
