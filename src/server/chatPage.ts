// The chat page `serve` answers at `/`: three static files from assets/chat-page/ (read once,
// when the server is built), the server's limits written into the HTML as a <meta> tag so the
// page can refuse an over-limit upload before sending it. No inline script or style, so the
// Content-Security-Policy can forbid both; the page talks only to its own origin.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** assets/chat-page in the package (dist/src/server/ -> package root). */
export const CHAT_PAGE_DIR = fileURLToPath(new URL('../../../assets/chat-page/', import.meta.url));

/** What the page bounds client-side: the same numbers the server enforces. */
export interface ChatPageLimits {
  /** Request body bytes (413 above). */
  readonly bodyLimit: number;
  /** Images in one request's messages together. */
  readonly imagesPerPrompt: number;
  /** Decoded pixels of one request's images together. */
  readonly maxImagePixelsPerRequest: number;
  /** Tokens of prompt plus answer. */
  readonly maxModelLen: number;
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
} as const;

/** The paths the page is made of; they are served without the API key (the page asks for it). */
export const CHAT_PAGE_PATHS: ReadonlySet<string> = new Set(['/', '/chat-page/chat.js', '/chat-page/chat.css']);

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The page's HTML with the limits filled in. */
export function chatPageHtml(limits: ChatPageLimits): string {
  const template = readFileSync(`${CHAT_PAGE_DIR}index.html`, 'utf8');
  const marker = '{{LIMITS}}';
  if (!template.includes(marker)) throw new Error(`${CHAT_PAGE_DIR}index.html has no ${marker} marker`);
  return template.replace(marker, escapeAttribute(JSON.stringify(limits)));
}

export function registerChatPage(app: FastifyInstance, limits: ChatPageLimits): void {
  const files: [string, string, string][] = [
    ['/', chatPageHtml(limits), 'text/html; charset=utf-8'],
    ['/chat-page/chat.js', readFileSync(`${CHAT_PAGE_DIR}chat.js`, 'utf8'), 'text/javascript; charset=utf-8'],
    ['/chat-page/chat.css', readFileSync(`${CHAT_PAGE_DIR}chat.css`, 'utf8'), 'text/css; charset=utf-8'],
  ];
  for (const [path, body, type] of files) {
    app.get(path, async (_req, reply) => reply.headers(SECURITY_HEADERS).type(type).send(body));
  }
}
