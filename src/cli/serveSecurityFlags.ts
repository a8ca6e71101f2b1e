// The serve flags that bound what the server accepts, fetches and reads (README "Security";
// their table: src/cli/specs/serveSecurity.ts), as server options.
import { realpathSync, statSync } from 'node:fs';
import { CliError } from './errors.js';
import type { OptionValues } from './options/spec.js';
import type { SECURITY_OPTIONS } from './specs/serveSecurity.js';
import type { ServerOptions } from '../server/context.js';

type Values = OptionValues<typeof SECURITY_OPTIONS>;

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

const ms = (s: number | undefined): number | undefined => (s === undefined ? undefined : Math.round(s * 1000));

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
    requestTimeoutMs: ms(v['request-timeout']),
    headersTimeoutMs: ms(v['headers-timeout']),
    keepAliveTimeoutMs: ms(v['timeout-keep-alive']),
    maxConnections: v['max-connections'],
  };
  const origins = parseListFlag('allowed-origins', v['allowed-origins']);
  return {
    allowedLocalMediaPath: localDir,
    allowedMediaDomains: parseListFlag('allowed-media-domains', v['allowed-media-domains']),
    allowPrivateMediaDestinations: v['allow-private-media-destinations'],
    maxImagePixelsPerRequest: v['max-image-pixels-per-request'],
    maxDecodePixels: v['max-decode-pixels'],
    maxRequestFanout: v['max-request-fanout'],
    http: Object.fromEntries(Object.entries(http).filter(([, x]) => x !== undefined)),
    cors:
      origins === undefined
        ? null
        : {
            allowedOrigins: origins,
            allowedMethods: parseListFlag('allowed-methods', v['allowed-methods']) ?? ['*'],
            allowedHeaders: parseListFlag('allowed-headers', v['allowed-headers']) ?? ['*'],
            allowCredentials: v['allow-credentials'],
          },
  };
}
