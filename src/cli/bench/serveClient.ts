// The measuring side of `tramontane bench serve`, as vLLM's benchmark_serving: random token
// prompts, arrivals at a request rate (Poisson, or gamma with burstiness) or all at once under a
// concurrency cap, each request streamed from /v1/completions and timed chunk by chunk.

export interface ServeBenchOptions {
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey: string | null;
  readonly numPrompts: number;
  readonly inputLen: number;
  readonly outputLen: number;
  /** Lengths drawn from [len * (1 - r), len * (1 + r)]. */
  readonly rangeRatio: number;
  /** Requests per second; Infinity sends all at once. */
  readonly requestRate: number;
  readonly burstiness: number;
  readonly maxConcurrency: number | null;
  readonly seed: number;
  /** Token ids the prompts are drawn from: [lowId, highId). */
  readonly lowId: number;
  readonly highId: number;
  readonly ignoreEos: boolean;
}

export interface RequestRecord {
  readonly success: boolean;
  readonly error: string;
  readonly promptLen: number;
  readonly outputLen: number;
  /** Seconds. */
  readonly ttft: number;
  readonly latency: number;
  readonly itl: number[];
  readonly generatedText: string;
}

/** xorshift32: the same prompts for the same seed. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export interface BenchRequest {
  readonly promptTokenIds: number[];
  readonly outputLen: number;
}

export function randomRequests(o: ServeBenchOptions): BenchRequest[] {
  const rand = seededRandom(o.seed);
  const lenIn = (base: number) => Math.max(1, Math.round(base * (1 - o.rangeRatio) + rand() * base * 2 * o.rangeRatio));
  return Array.from({ length: o.numPrompts }, () => {
    const n = lenIn(o.inputLen);
    const ids = Array.from({ length: n }, () => o.lowId + Math.floor(rand() * (o.highId - o.lowId)));
    return { promptTokenIds: ids, outputLen: lenIn(o.outputLen) };
  });
}

async function oneRequest(o: ServeBenchOptions, req: BenchRequest): Promise<RequestRecord> {
  const start = performance.now();
  const itl: number[] = [];
  let ttft = 0;
  let last = start;
  let text = '';
  let outputLen = 0;
  try {
    const res = await fetch(`${o.baseUrl}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
      body: JSON.stringify({
        model: o.model,
        prompt: req.promptTokenIds,
        max_tokens: req.outputLen,
        temperature: 0,
        ignore_eos: o.ignoreEos,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') continue;
        const msg = JSON.parse(data) as { choices?: { text?: string }[]; usage?: { completion_tokens: number }; error?: { message: string } };
        if (msg.error) throw new Error(msg.error.message);
        if (msg.usage) outputLen = msg.usage.completion_tokens;
        const piece = msg.choices?.[0]?.text;
        if (piece !== undefined && piece !== '') {
          const now = performance.now();
          if (ttft === 0) ttft = (now - start) / 1000;
          else itl.push((now - last) / 1000);
          last = now;
          text += piece;
        }
      }
    }
    const latency = (performance.now() - start) / 1000;
    return { success: true, error: '', promptLen: req.promptTokenIds.length, outputLen, ttft: ttft || latency, latency, itl, generatedText: text };
  } catch (e) {
    return { success: false, error: (e as Error).message, promptLen: req.promptTokenIds.length, outputLen: 0, ttft: 0, latency: 0, itl: [], generatedText: '' };
  }
}

/** Sends every request (rate and concurrency as asked); resolves with the records in order and
 *  the wall time in seconds. `onRecord` hears of each request as it ends (for progress). */
export async function runRequests(o: ServeBenchOptions, requests: readonly BenchRequest[], onRecord?: (r: RequestRecord) => void): Promise<{ records: RequestRecord[]; duration: number }> {
  const rand = seededRandom(o.seed ^ 0x5bd1e995);
  let active = 0;
  const waiters: (() => void)[] = [];
  const acquire = async () => {
    if (o.maxConcurrency === null) return;
    while (active >= o.maxConcurrency) await new Promise<void>((r) => waiters.push(r));
    active++;
  };
  const release = () => {
    if (o.maxConcurrency === null) return;
    active--;
    waiters.shift()?.();
  };
  const start = performance.now();
  const pending: Promise<RequestRecord>[] = [];
  for (const req of requests) {
    pending.push(
      (async () => {
        await acquire();
        try {
          const record = await oneRequest(o, req);
          onRecord?.(record);
          return record;
        } finally {
          release();
        }
      })(),
    );
    if (Number.isFinite(o.requestRate)) {
      // Gamma(shape = burstiness, scale = 1 / (rate * burstiness)) gaps; burstiness 1 is Poisson.
      const gap = gammaSample(rand, o.burstiness) / (o.requestRate * o.burstiness);
      await new Promise((r) => setTimeout(r, gap * 1000));
    }
  }
  const records = await Promise.all(pending);
  return { records, duration: (performance.now() - start) / 1000 };
}

/** Gamma(shape k, scale 1) by Marsaglia-Tsang (with the k < 1 boost). */
function gammaSample(rand: () => number, k: number): number {
  if (k < 1) return gammaSample(rand, k + 1) * Math.pow(rand() || 1e-12, 1 / k);
  const d = k - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      const u1 = rand() || 1e-12;
      const u2 = rand();
      x = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand() || 1e-12;
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}
