// An http(s) GET for image bytes under a media policy: the destination is resolved here and
// checked (allow-listed host, no private address unless allowed), the socket connects to the
// checked address (no second lookup, so no DNS rebinding), redirects are followed by hand with
// the same checks on every hop, and the body is capped in bytes and the whole fetch in time.
// Every failure is one FetchRefusedError whose message the client sees and whose `detail`
// (what really happened) is for the server's log only, so that a client cannot tell a closed
// port from a refused or failed one.
import { lookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from './destination.js';

export interface FetchPolicy {
  /** Host names (exact, case-insensitive) a URL may name; null: any. */
  readonly allowedDomains: readonly string[] | null;
  /** Allow loopback, private, link-local... destinations (off for a server by default). */
  readonly allowPrivateDestinations: boolean;
}

export interface FetchLimits {
  readonly fetchTimeoutMs: number;
  readonly maxFetchBytes: number;
}

export const MAX_REDIRECTS = 5;

/** The one message a client gets for a fetch that was refused or failed. */
export const FETCH_FAILED = 'could not be fetched (a failed or refused download; see the server log for why)';

export class FetchRefusedError extends Error {
  constructor(readonly detail: string) {
    super(FETCH_FAILED);
    this.name = 'FetchRefusedError';
  }
}

function hostAllowed(url: URL, policy: FetchPolicy): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FetchRefusedError(`redirect to a ${url.protocol} URL`);
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (policy.allowedDomains !== null && !policy.allowedDomains.some((d) => d.toLowerCase() === host)) {
    throw new FetchRefusedError(`host ${host} is not in --allowed-media-domains`);
  }
  const literal = host.startsWith('[') ? host.slice(1, -1) : host;
  if (isIP(literal) !== 0 && !policy.allowPrivateDestinations && isPrivateAddress(literal)) {
    throw new FetchRefusedError(`destination ${literal} is a private or reserved address`);
  }
}

/** dns.lookup, refusing private answers unless allowed; the socket then connects to what it returns. */
function guardedLookup(policy: FetchPolicy): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { all: true, family: options.family, hints: options.hints }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => isPrivateAddress(a.address));
      if (bad && !policy.allowPrivateDestinations) {
        const e = Object.assign(new Error(`${hostname} resolves to ${bad.address}, a private or reserved address`), { code: 'EPRIVATE' });
        return callback(e, '', 0);
      }
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname}: no address`), { code: 'ENOTFOUND' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

function getOnce(url: URL, policy: FetchPolicy, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'GET',
      agent: false,
      lookup: guardedLookup(policy),
      headers: { accept: 'image/*', 'user-agent': 'tramontane' },
      signal,
    });
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

async function readCapped(res: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw new FetchRefusedError(`declared body of ${declared} bytes is over the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      res.destroy();
      throw new FetchRefusedError(`body is over the limit of ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** Fetches `url` under `policy`; `signal` (the client going away) cancels it. */
export async function guardedFetch(url: URL, policy: FetchPolicy, limits: FetchLimits, signal?: AbortSignal): Promise<Uint8Array> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new FetchRefusedError(`timed out after ${limits.fetchTimeoutMs} ms`)), limits.fetchTimeoutMs);
  const onAbort = (): void => controller.abort(new FetchRefusedError('the client went away'));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let current = url;
    for (let hop = 0; ; hop++) {
      hostAllowed(current, policy);
      const res = await getOnce(current, policy, controller.signal);
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location !== undefined) {
        res.destroy();
        if (hop >= MAX_REDIRECTS) throw new FetchRefusedError(`more than ${MAX_REDIRECTS} redirects`);
        try {
          current = new URL(res.headers.location, current);
        } catch {
          throw new FetchRefusedError(`redirect to an invalid URL '${res.headers.location.slice(0, 100)}'`);
        }
        continue;
      }
      if (status < 200 || status >= 300) {
        res.destroy();
        throw new FetchRefusedError(`HTTP ${status} from ${current.host}`);
      }
      return await readCapped(res, limits.maxFetchBytes);
    }
  } catch (err) {
    if (err instanceof FetchRefusedError) throw err;
    const reason: unknown = controller.signal.reason;
    if (controller.signal.aborted && reason instanceof FetchRefusedError) throw reason;
    const e = err as NodeJS.ErrnoException;
    throw new FetchRefusedError(`${e.code ?? 'error'}: ${e.message}`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
