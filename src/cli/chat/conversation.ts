// What `tramontane chat` keeps between turns: the messages so far and the images waiting for the
// next one; the same whichever client (local model or server) answers.
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { CliError } from '../errors.js';

/** An image file attached with /image, read once. */
export interface ImageAttachment {
  readonly path: string;
  readonly bytes: Uint8Array;
  /** image/png, image/jpeg, image/webp or image/gif. */
  readonly mime: string;
}

export interface ChatEntry {
  readonly role: 'system' | 'user' | 'assistant';
  readonly text: string;
  readonly images: readonly ImageAttachment[];
}

/** Largest image file /image reads: the server's default body limit (base64 grows it by 4/3). */
export const MAX_IMAGE_FILE_BYTES = 24 * 1024 * 1024;

const MIME_BY_EXTENSION: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif' };

/** Reads an image file for /image; a missing, oversized or unknown file is a CliError. */
export async function readImageAttachment(path: string): Promise<ImageAttachment> {
  const mime = MIME_BY_EXTENSION[extname(path).toLowerCase()];
  if (!mime) throw new CliError(`${path}: not a .png, .jpg, .jpeg, .webp or .gif file`);
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new CliError(`${path}: not a file`);
    size = s.size;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (size > MAX_IMAGE_FILE_BYTES) throw new CliError(`${path}: ${size} bytes, over the ${MAX_IMAGE_FILE_BYTES} bytes an image may have`);
  return { path, bytes: new Uint8Array(await readFile(path)), mime };
}

export class Conversation {
  private system: string | null = null;
  private entries: ChatEntry[] = [];
  private pending: ImageAttachment[] = [];

  constructor(private readonly maxImages: number) {}

  setSystem(text: string | null): void {
    this.system = text;
  }

  /** Queues an image for the next user message; refuses more than the conversation may carry. */
  attach(image: ImageAttachment): void {
    if (this.imageCount() + this.pending.length + 1 > this.maxImages) throw new CliError(`at most ${this.maxImages} images in one conversation (/reset starts a new one)`);
    this.pending.push(image);
  }

  get pendingImages(): readonly ImageAttachment[] {
    return this.pending;
  }

  /** The messages to send for a new user message (the pending images go with it). */
  withUser(text: string): ChatEntry[] {
    const system: ChatEntry[] = this.system === null ? [] : [{ role: 'system', text: this.system, images: [] }];
    return [...system, ...this.entries, { role: 'user', text, images: [...this.pending] }];
  }

  /** Records a finished (or cancelled, when some text came) turn; the pending images are spent. */
  commit(user: string, answer: string): void {
    if (answer.length > 0) this.entries.push({ role: 'user', text: user, images: this.pending }, { role: 'assistant', text: answer, images: [] });
    this.pending = [];
  }

  /** Forgets the history and the pending images; the system prompt stays. */
  reset(): void {
    this.entries = [];
    this.pending = [];
  }

  get turns(): number {
    return this.entries.length / 2;
  }

  private imageCount(): number {
    return this.entries.reduce((n, e) => n + e.images.length, 0);
  }
}
