// `tramontane chat --url`: a running OpenAI-compatible server (tramontane serve, vLLM...),
// streamed over SSE from /v1/chat/completions; images go as data: URLs in image_url parts.
import { CliError } from '../errors.js';
import type { ChatClient, ChatDelta, ChatSampling } from './chatClient.js';
import type { ChatEntry } from './conversation.js';

/** Longest SSE event kept while waiting for its end (a chunk is a few hundred bytes). */
const MAX_EVENT_CHARS = 1 << 20;

interface StreamChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { completion_tokens?: number; prompt_tokens?: number } | null;
  error?: { message?: string };
}

function toOpenAI(m: ChatEntry): { role: string; content: unknown } {
  if (m.images.length === 0) return { role: m.role, content: m.text };
  const images = m.images.map((a) => ({ type: 'image_url', image_url: { url: `data:${a.mime};base64,${Buffer.from(a.bytes).toString('base64')}` } }));
  return { role: m.role, content: [...(m.text ? [{ type: 'text', text: m.text }] : []), ...images] };
}

/** The parsed `data:` payloads of an SSE body, until [DONE]. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamChunk> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data === '[DONE]') return;
      if (data) yield JSON.parse(data) as StreamChunk;
    }
    if (buffer.length > MAX_EVENT_CHARS) throw new CliError(`the server sent an event over ${MAX_EVENT_CHARS} characters`);
  }
}

async function errorText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const message = (JSON.parse(text) as StreamChunk).error?.message;
    if (message) return `${res.status}: ${message}`;
  } catch {
    // not JSON: the status and the start of the text
  }
  return `${res.status} ${res.statusText} ${text.slice(0, 200)}`.trim();
}

export class RemoteChatClient implements ChatClient {
  private constructor(
    private readonly base: string,
    private readonly apiKey: string | null,
    private readonly model: string,
  ) {}

  /** Checks the server answers (GET /v1/models) and picks the model: the given one or its first. */
  static async connect(url: string, apiKey: string | null, model: string | undefined): Promise<RemoteChatClient> {
    let base: URL;
    try {
      base = new URL(url);
    } catch {
      throw new CliError(`--url: '${url}' is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new CliError(`--url must be http(s) (got ${base.protocol})`);
    const root = base.href.replace(/\/+$/, '').replace(/\/v1$/, '');
    const client = new RemoteChatClient(root, apiKey, model ?? '');
    let res: Response;
    try {
      res = await fetch(`${root}/v1/models`, { headers: client.headers(), signal: AbortSignal.timeout(10_000) });
    } catch (e) {
      throw new CliError(`cannot reach ${root}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
    if (!res.ok) throw new CliError(`${root}/v1/models: ${await errorText(res)}${res.status === 401 ? ' (give --api-key or TRAMONTANE_API_KEY)' : ''}`);
    const ids = ((await res.json()) as { data?: { id: string }[] }).data?.map((d) => d.id) ?? [];
    if (model !== undefined && !ids.includes(model)) throw new CliError(`--model '${model}' is not served at ${root} (it serves ${ids.join(', ') || 'nothing'})`);
    if (ids.length === 0) throw new CliError(`${root} serves no model`);
    return new RemoteChatClient(root, apiKey, model ?? ids[0]);
  }

  get description(): string {
    return `${this.model} at ${this.base}`;
  }

  async *stream(messages: readonly ChatEntry[], sampling: ChatSampling, signal: AbortSignal): AsyncGenerator<ChatDelta> {
    const body = {
      model: this.model,
      messages: messages.map(toOpenAI),
      stream: true,
      stream_options: { include_usage: true },
      temperature: sampling.temperature,
      ...(sampling.maxTokens === null ? {} : { max_tokens: sampling.maxTokens }),
    };
    let res: Response;
    try {
      res = await fetch(`${this.base}/v1/chat/completions`, { method: 'POST', headers: { ...this.headers(), 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
    } catch (e) {
      if (signal.aborted) return;
      throw new CliError(`cannot reach ${this.base}: ${(e as Error).message}`);
    }
    if (!res.ok || !res.body) throw new CliError(await errorText(res));
    try {
      for await (const chunk of sseData(res.body)) {
        if (chunk.error) throw new CliError(chunk.error.message ?? 'the server reported an error');
        const choice = chunk.choices?.[0];
        const text = choice?.delta?.content ?? '';
        if (text || choice?.finish_reason) yield { text, finishReason: choice?.finish_reason ?? null };
        if (chunk.usage?.completion_tokens !== undefined) yield { text: '', completionTokens: chunk.usage.completion_tokens, promptTokens: chunk.usage.prompt_tokens };
      }
    } catch (e) {
      if (signal.aborted) return; // cancelled: the connection is closed, the server aborts the request
      throw e;
    }
  }

  async close(): Promise<void> {}

  private headers(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }
}
