// Where image bytes come from: a path, a file:// URL, an http(s):// URL (size limit and
// timeout), a data:image/...;base64 URI, or raw bytes.
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ImageError } from './errors.js';

export type ImageSource = string | URL | Uint8Array;

export interface FetchLimits {
  fetchTimeoutMs: number;
  maxFetchBytes: number;
}

export interface LoadedBytes {
  bytes: Uint8Array;
  /** A short name of the source for error messages. */
  label: string;
}

export function describeSource(source: ImageSource): string {
  if (source instanceof Uint8Array) return `<${source.length} bytes>`;
  const text = source.toString();
  if (text.startsWith('data:')) return `${text.slice(0, Math.min(text.indexOf(',') + 1 || 40, 40))}... (${text.length} chars)`;
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

export async function loadImageBytes(source: ImageSource, limits: FetchLimits): Promise<LoadedBytes> {
  const label = describeSource(source);
  if (source instanceof Uint8Array) return { bytes: source, label };
  const text = source.toString();
  if (text.startsWith('data:')) return { bytes: decodeDataUri(text, label), label };
  if (/^https?:\/\//i.test(text)) return { bytes: await fetchBytes(text, label, limits), label };
  if (/^file:/i.test(text)) {
    let path: string;
    try {
      path = fileURLToPath(text);
    } catch (err) {
      throw new ImageError(label, `not a valid file URL (${(err as Error).message})`);
    }
    return { bytes: await readLocal(path, label), label };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw new ImageError(label, `unsupported URL scheme '${text.slice(0, text.indexOf(':'))}' (use a path, file://, http(s):// or data:)`);
  }
  return { bytes: await readLocal(text, label), label };
}

function decodeDataUri(uri: string, label: string): Uint8Array {
  const comma = uri.indexOf(',');
  if (comma < 0) throw new ImageError(label, 'data URI has no comma before its data');
  const meta = uri.slice(5, comma);
  if (!/^image\//i.test(meta)) throw new ImageError(label, `data URI media type '${meta}' is not image/...`);
  if (!/;base64$/i.test(meta)) throw new ImageError(label, 'data URI is not base64-encoded (expected ;base64)');
  const payload = uri.slice(comma + 1).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 === 1) {
    throw new ImageError(label, 'data URI payload is not valid base64');
  }
  return new Uint8Array(Buffer.from(payload, 'base64'));
}

async function readLocal(path: string, label: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new ImageError(label, 'is a directory, not an image file');
    return new Uint8Array(await readFile(path));
  } catch (err) {
    if (err instanceof ImageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ImageError(label, 'no such file');
    if (code === 'EACCES') throw new ImageError(label, 'permission denied');
    throw new ImageError(label, `cannot read file (${(err as Error).message})`);
  }
}

async function fetchBytes(url: string, label: string, limits: FetchLimits): Promise<Uint8Array> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.fetchTimeoutMs);
  try {
    const response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new ImageError(label, `HTTP ${response.status} ${response.statusText}`.trim());
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > limits.maxFetchBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new ImageError(label, `body of ${declared} bytes is over the limit of ${limits.maxFetchBytes} bytes`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > limits.maxFetchBytes) {
          await reader.cancel().catch(() => undefined);
          throw new ImageError(label, `body is over the limit of ${limits.maxFetchBytes} bytes`);
        }
        chunks.push(value);
      }
    }
    return new Uint8Array(Buffer.concat(chunks));
  } catch (err) {
    if (err instanceof ImageError) throw err;
    if (controller.signal.aborted) throw new ImageError(label, `fetch timed out after ${limits.fetchTimeoutMs} ms`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new ImageError(label, `fetch failed (${detail})`);
  } finally {
    clearTimeout(timer);
  }
}
