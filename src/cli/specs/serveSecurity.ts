// The serve flags that bound what the server accepts, fetches and reads (README "Security");
// turned into server options by src/cli/serveSecurityFlags.ts.
import type { OptionTable } from '../options/spec.js';

export const SECURITY_OPTIONS = {
  'allowed-local-media-path': { kind: 'string', value: 'DIR', group: 'security', help: 'image URLs may be file:// URLs inside this directory' },
  'allowed-media-domains': { kind: 'string', value: 'D,...', multiple: true, group: 'security', help: 'host names image URLs may name (comma-separated, a JSON list, or repeated)', defaultText: 'any public host' },
  'allow-private-media-destinations': { kind: 'boolean', group: 'security', help: 'let image fetches reach loopback, private and link-local addresses' },
  'max-image-pixels-per-request': { kind: 'integer', value: 'N', min: 1, group: 'security', help: "decoded pixels of one request's images together", defaultText: '67108864' },
  'max-decode-pixels': { kind: 'integer', value: 'N', min: 1, group: 'security', help: 'decoded pixels in flight over all requests', defaultText: '134217728' },
  'max-request-fanout': { kind: 'integer', value: 'N', min: 1, group: 'security', help: 'sequences one request may start (prompts x n); 400 above', defaultText: '256' },
  'request-timeout': { kind: 'number', value: 'SECONDS', min: 0, group: 'security', help: 'longest a whole request (headers and body) may take to arrive', defaultText: '60' },
  'headers-timeout': { kind: 'number', value: 'SECONDS', min: 0, group: 'security', help: "longest a client may take to send a request's headers", defaultText: '10' },
  'timeout-keep-alive': { kind: 'number', value: 'SECONDS', min: 0, group: 'security', help: 'idle keep-alive connections close after this', defaultText: '5' },
  'max-connections': { kind: 'integer', value: 'N', min: 1, group: 'security', help: 'open connections at most', defaultText: '1024' },
  'allowed-origins': { kind: 'string', value: 'O,...', multiple: true, group: 'security', help: 'CORS: origins allowed (none: no CORS headers)' },
  'allowed-methods': { kind: 'string', value: 'M,...', multiple: true, group: 'security', help: 'CORS: methods allowed', defaultText: '*' },
  'allowed-headers': { kind: 'string', value: 'H,...', multiple: true, group: 'security', help: 'CORS: request headers allowed', defaultText: '*' },
  'allow-credentials': { kind: 'boolean', group: 'security', help: 'CORS: allow credentials' },
} as const satisfies OptionTable;
