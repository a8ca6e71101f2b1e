// `tramontane chat`: an interactive terminal chat with a model loaded here (generate's model
// flags; by default the embedded tiny model) or with a running server (--url, --api-key).
// Its flags: src/cli/specs/chat.ts.
import type { Command } from '../command.js';
import { parseOrHelp } from '../args.js';
import { CliError } from '../errors.js';
import { createCliLogger } from '../logging.js';
import { beforeLoad } from '../modelSetup.js';
import { weightLoadProgress } from '../progress.js';
import { CHAT_SPEC } from '../specs/chat.js';
import type { ChatClient } from '../chat/chatClient.js';
import { LocalChatClient } from '../chat/localChatClient.js';
import { RemoteChatClient } from '../chat/remoteChatClient.js';
import { runChatSession } from '../chat/session.js';
import { LLM } from '../../engine/llm.js';

/** Images one conversation may carry: the server's default --limit-mm-per-prompt. */
const MAX_IMAGES = 16;

export const chatCommand: Command = {
  name: 'chat',
  summary: 'chat in the terminal with a model or a running server (streaming, images)',
  async run(args: string[]): Promise<number> {
    const parsed = parseOrHelp(CHAT_SPEC, args);
    if (!parsed) return 0;
    const v = parsed.values;
    const log = createCliLogger({ level: v['log-level'], format: v['log-format'] });
    const { temperature } = v;
    const maxTokens = v['max-tokens'] ?? null;
    let client: ChatClient;
    if (v.url !== undefined) {
      const local = { tokenizer: v.tokenizer !== undefined, 'load-format': v['load-format'] !== 'auto', quantization: v.quantization !== undefined, device: v.device !== undefined, dtype: v.dtype !== 'auto', 'max-model-len': v['max-model-len'] !== undefined };
      for (const [flag, given] of Object.entries(local)) {
        if (given) throw new CliError(`chat: --${flag} chooses a local model; with --url the server has its own`);
      }
      client = await RemoteChatClient.connect(v.url, v['api-key'] ?? process.env.TRAMONTANE_API_KEY ?? null, v.model);
    } else {
      if (v['api-key'] !== undefined) throw new CliError('chat: --api-key goes with --url');
      await beforeLoad(log, { model: v.model, loadFormat: v['load-format'], device: v.device, dtype: v.dtype });
      try {
        const llm = await LLM.create({ model: v.model, tokenizer: v.tokenizer, loadFormat: v['load-format'], quantization: v.quantization, device: v.device, maxModelLen: v['max-model-len'], maxNumSeqs: 1, onProgress: weightLoadProgress() });
        client = new LocalChatClient(llm);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    }
    try {
      await runChatSession(client, { sampling: { temperature, maxTokens }, system: v.system ?? null, maxImages: MAX_IMAGES });
    } finally {
      await client.close();
    }
    return 0;
  },
};
