// `tramontane chat` on a model loaded in this process: the chat template and images through the
// same LLM the library and the server use; Ctrl-C aborts the request in the engine.
import type { ChatContentPart, ChatTurn } from '../../engine/chatPort.js';
import type { LLM } from '../../engine/llm.js';
import type { PreparedImage } from '../../engine/promptInput.js';
import { CliError } from '../errors.js';
import type { ChatClient, ChatDelta, ChatSampling } from './chatClient.js';
import type { ChatEntry, ImageAttachment } from './conversation.js';

export class LocalChatClient implements ChatClient {
  /** Each attachment is preprocessed once, then reused on every later turn. */
  private readonly encoded = new WeakMap<ImageAttachment, PreparedImage>();

  constructor(private readonly llm: LLM) {}

  get description(): string {
    return `${this.llm.modelName} (in this process)`;
  }

  async *stream(messages: readonly ChatEntry[], sampling: ChatSampling, signal: AbortSignal): AsyncGenerator<ChatDelta> {
    const turns = await Promise.all(messages.map((m) => this.turn(m)));
    const input = await this.llm.prepareChat(turns);
    const params = this.llm.samplingParams({ temperature: sampling.temperature, maxTokens: sampling.maxTokens });
    let printed = 0;
    for await (const out of this.llm.streamPrepared(input, params, { signal, copyOutputs: false })) {
      const o = out.outputs[0];
      const text = o.text.slice(printed);
      printed = o.text.length;
      if (text.length > 0 || o.finishReason) yield { text, finishReason: o.finishReason, completionTokens: o.tokenIds.length, promptTokens: out.promptTokenIds.length };
    }
  }

  close(): Promise<void> {
    return this.llm.close();
  }

  private async turn(m: ChatEntry): Promise<ChatTurn> {
    if (m.images.length === 0) return { role: m.role, content: m.text };
    const images = this.llm.components.images;
    if (!images) throw new CliError(`${this.llm.modelName} takes no images`);
    const parts: ChatContentPart[] = m.text ? [{ type: 'text', text: m.text }] : [];
    for (const a of m.images) {
      let image = this.encoded.get(a);
      if (!image) {
        try {
          image = await images.encode(a.bytes);
        } catch (e) {
          throw new CliError(`${a.path}: ${(e as Error).message}`);
        }
        this.encoded.set(a, image);
      }
      parts.push({ type: 'image', image });
    }
    return { role: m.role, content: parts };
  }
}
