// Where image bytes come from: a path, a file:// URL, an http(s):// URL (size limit and
// timeout), a data:image/...;base64 URI, or raw bytes. What may be read is the policy's call:
// the offline API trusts its caller (TRUSTED_POLICY); a server passes a restricted one.
import { readFile, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageError } from './errors.js';
import { guardedFetch, FetchRefusedError, type FetchPolicy } from './guardedFetch.js';

/** Which images a request may load: local files, hosts, private addresses. */
export interface MediaPolicy extends FetchPolicy {
  /** Local files: 'any' (paths and file:// URLs: the offline API), a directory (only file://
   *  URLs that resolve, after symlinks, inside it), or null (never). */
  readonly localFiles: 'any' | string | null;
}

/** The offline API's: the caller is the operator; any path, any URL. */
export const TRUSTED_POLICY: MediaPolicy = { localFiles: 'any', allowedDomains: null, allowPrivateDestinations: true };

/** A fetch refused or failed under a restricted policy: the message is uniform, `detail` is for logs. */
export class ImageFetchError extends ImageError {
  constructor(
    source: string,
    reason: string,
    readonly detail: string,
  ) {
    super(source, reason);
  }
}

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
  if (/^data:/i.test(text)) return `${text.slice(0, Math.min(text.indexOf(',') + 1 || 40, 40))}... (${text.length} chars)`;
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

export async function loadImageBytes(source: ImageSource, limits: FetchLimits, policy: MediaPolicy = TRUSTED_POLICY, signal?: AbortSignal): Promise<LoadedBytes> {
  const label = describeSource(source);
  if (source instanceof Uint8Array) return { bytes: source, label };
  const text = source.toString();
  if (/^data:/i.test(text)) return { bytes: decodeDataUri(text, label), label };
  if (policy.localFiles !== 'any') return { bytes: await loadRestricted(text, label, limits, policy, signal), label };
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

/** A URL from a client: parsed as a URL and branched on its scheme; never a bare path. */
async function loadRestricted(text: string, label: string, limits: FetchLimits, policy: MediaPolicy, signal?: AbortSignal): Promise<Uint8Array> {
  const schemes = `http(s)://, data:${policy.localFiles === null ? '' : ' or file://'}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ImageError(label, `is not a URL (use ${schemes})`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    try {
      return await guardedFetch(url, policy, limits, signal);
    } catch (err) {
      if (err instanceof FetchRefusedError) throw new ImageFetchError(label, err.message, err.detail);
      throw err;
    }
  }
  if (url.protocol === 'file:' && policy.localFiles !== null && policy.localFiles !== 'any') {
    return readInside(url, policy.localFiles, label, limits.maxFetchBytes);
  }
  throw new ImageError(label, `unsupported URL scheme '${url.protocol.slice(0, -1).slice(0, 20)}' (use ${schemes})`);
}

/** A file:// URL resolving (symlinks followed) inside `dir`; every refusal reads the same. */
async function readInside(url: URL, dir: string, label: string, maxBytes: number): Promise<Uint8Array> {
  const refuse = (): ImageError => new ImageError(label, 'is not a readable file under --allowed-local-media-path');
  let path: string;
  try {
    if (url.host !== '' && url.host !== 'localhost') throw refuse();
    const root = await realpath(dir);
    path = await realpath(fileURLToPath(url));
    if (!path.startsWith(root.endsWith(sep) ? root : root + sep)) throw refuse();
    const info = await stat(path);
    if (!info.isFile()) throw refuse();
    if (info.size > maxBytes) throw new ImageError(label, `file of ${info.size} bytes is over the limit of ${maxBytes} bytes`);
  } catch (err) {
    if (err instanceof ImageError) throw err;
    throw refuse();
  }
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    throw refuse();
  }
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
