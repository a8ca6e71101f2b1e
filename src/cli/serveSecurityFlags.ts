// The serve flags that bound what the server accepts, fetches and reads (README "Security").
import { realpathSync, statSync } from 'node:fs';
import { CliError } from './errors.js';
import { parseNumberFlag } from './parseNumbers.js';
import type { ServerOptions } from '../server/context.js';

export const SECURITY_FLAGS = {
  'allowed-local-media-path': { type: 'string' },
  'allowed-media-domains': { type: 'string', multiple: true },
  'allow-private-media-destinations': { type: 'boolean' },
  'max-image-pixels-per-request': { type: 'string' },
  'max-decode-pixels': { type: 'string' },
  'max-request-fanout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'headers-timeout': { type: 'string' },
  'timeout-keep-alive': { type: 'string' },
  'max-connections': { type: 'string' },
  'allowed-origins': { type: 'string', multiple: true },
  'allowed-methods': { type: 'string', multiple: true },
  'allowed-headers': { type: 'string', multiple: true },
  'allow-credentials': { type: 'boolean' },
} as const;

export const SECURITY_USAGE = `  [--allowed-local-media-path DIR] [--allowed-media-domains D,...] [--allow-private-media-destinations]
  [--max-image-pixels-per-request N] [--max-decode-pixels N] [--max-request-fanout N]
  [--request-timeout S] [--headers-timeout S] [--timeout-keep-alive S] [--max-connections N]
  [--allowed-origins O,...] [--allowed-methods M,...] [--allowed-headers H,...] [--allow-credentials]`;

type Values = { [K in keyof typeof SECURITY_FLAGS]?: (typeof SECURITY_FLAGS)[K] extends { multiple: true } ? string[] : (typeof SECURITY_FLAGS)[K] extends { type: 'boolean' } ? boolean : string };

/** vLLM's list flags: a JSON list ('["a","b"]'), comma-separated, or the flag repeated. */
export function parseListFlag(flag: string, values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const out: string[] = [];
  for (const v of values) {
    if (v.trim().startsWith('[')) {
      let list: unknown;
      try {
        list = JSON.parse(v);
      } catch {
        throw new CliError(`--${flag}: '${v}' is not a valid JSON list`);
      }
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) throw new CliError(`--${flag}: expected a JSON list of strings (got '${v}')`);
      out.push(...(list as string[]));
    } else out.push(...v.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  }
  return out;
}

const seconds = (flag: string, v: string | undefined): number | undefined => {
  const s = parseNumberFlag(flag, v, { min: 0 });
  return s === undefined ? undefined : Math.round(s * 1000);
};

export function securityOptions(v: Values): Partial<ServerOptions> {
  let localDir: string | undefined;
  const dir = v['allowed-local-media-path'];
  if (dir !== undefined) {
    try {
      localDir = realpathSync(dir);
      if (!statSync(localDir).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new CliError(`--allowed-local-media-path: '${dir}' is not a directory (${(e as Error).message})`);
    }
  }
  const http = {
    requestTimeoutMs: seconds('request-timeout', v['request-timeout']),
    headersTimeoutMs: seconds('headers-timeout', v['headers-timeout']),
    keepAliveTimeoutMs: seconds('timeout-keep-alive', v['timeout-keep-alive']),
    maxConnections: parseNumberFlag('max-connections', v['max-connections'], { integer: true, min: 1 }),
  };
  const origins = parseListFlag('allowed-origins', v['allowed-origins']);
  return {
    allowedLocalMediaPath: localDir,
    allowedMediaDomains: parseListFlag('allowed-media-domains', v['allowed-media-domains']),
    allowPrivateMediaDestinations: v['allow-private-media-destinations'] === true,
    maxImagePixelsPerRequest: parseNumberFlag('max-image-pixels-per-request', v['max-image-pixels-per-request'], { integer: true, min: 1 }),
    maxDecodePixels: parseNumberFlag('max-decode-pixels', v['max-decode-pixels'], { integer: true, min: 1 }),
    maxRequestFanout: parseNumberFlag('max-request-fanout', v['max-request-fanout'], { integer: true, min: 1 }),
    http: Object.fromEntries(Object.entries(http).filter(([, x]) => x !== undefined)),
    cors:
      origins === undefined
        ? null
        : {
            allowedOrigins: origins,
            allowedMethods: parseListFlag('allowed-methods', v['allowed-methods']) ?? ['*'],
            allowedHeaders: parseListFlag('allowed-headers', v['allowed-headers']) ?? ['*'],
            allowCredentials: v['allow-credentials'] === true,
          },
  };
}
