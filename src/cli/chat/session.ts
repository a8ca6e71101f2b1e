// The interactive loop of `tramontane chat`: a readline prompt, answers streamed to stdout,
// slash commands, and Ctrl-C that cancels the answer in flight (at the prompt: clears the line;
// a second one on an empty line exits, as Node's REPL does).
import { createInterface, type Interface } from 'node:readline';
import { CliError } from '../errors.js';
import type { ChatClient, ChatSampling } from './chatClient.js';
import { Conversation, readImageAttachment } from './conversation.js';

export interface SessionOptions {
  readonly sampling: ChatSampling;
  readonly system: string | null;
  /** Images one conversation may carry (the server's --limit-mm-per-prompt default). */
  readonly maxImages: number;
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
}

export const SESSION_HELP = `commands: /image <path> attaches an image to your next message, /system <text> sets the system
prompt (/system alone clears it), /reset forgets the conversation, /exit (or Ctrl-D) quits.
Ctrl-C cancels an answer; at an empty prompt, press it twice to quit.`;

/** Lines typed, queued while an answer streams. */
class LineQueue {
  private readonly lines: string[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(rl: Interface) {
    rl.on('line', (line) => {
      this.lines.push(line);
      this.wake?.();
    });
    rl.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** The next line, or null once the input has ended. */
  async next(): Promise<string | null> {
    while (this.lines.length === 0 && !this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = null;
    return this.lines.shift() ?? null;
  }
}

export async function runChatSession(client: ChatClient, options: SessionOptions): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const tty = (output as NodeJS.WriteStream).isTTY === true;
  const dim = (text: string): string => (tty ? `\x1b[2m${text}\x1b[0m` : text);
  const say = (text: string): void => void output.write(`${dim(text)}\n`);
  const rl = createInterface({ input, output, terminal: (input as NodeJS.ReadStream).isTTY === true });
  const lines = new LineQueue(rl);
  const conversation = new Conversation(options.maxImages);
  conversation.setSystem(options.system);
  let inFlight: AbortController | null = null;
  let exitArmed = false;

  const onInterrupt = (): void => {
    if (inFlight) {
      inFlight.abort();
      return;
    }
    if (rl.line.length > 0) {
      // As a shell: Ctrl-C drops what was typed.
      rl.write(null, { ctrl: true, name: 'e' }); // to the end of the line,
      rl.write(null, { ctrl: true, name: 'u' }); // then delete back to its start
      output.write('\n');
      rl.prompt();
      return;
    }
    if (exitArmed) {
      output.write('\n');
      rl.close();
      return;
    }
    exitArmed = true;
    output.write(`\n${dim('(to exit, press Ctrl-C again or type /exit)')}\n`);
    rl.prompt();
  };
  rl.on('SIGINT', onInterrupt); // a terminal: readline reads Ctrl-C as a key
  process.on('SIGINT', onInterrupt); // piped input: the signal itself

  say(`tramontane chat with ${client.description}`);
  say(SESSION_HELP);
  rl.setPrompt('> ');
  try {
    for (;;) {
      rl.prompt();
      const line = await lines.next();
      if (line === null) {
        output.write('\n'); // Ctrl-D or the end of piped input: end the prompt's line
        break;
      }
      exitArmed = false;
      const text = line.trim();
      if (text.startsWith('/')) {
        const [command, ...rest] = text.split(/\s+/);
        const arg = text.slice(command.length).trim();
        if (command === '/exit' || command === '/quit') break;
        if (command === '/reset') {
          conversation.reset();
          say('(conversation cleared)');
        } else if (command === '/system') {
          conversation.setSystem(arg || null);
          say(arg ? '(system prompt set; it applies from the next message)' : '(system prompt cleared)');
        } else if (command === '/image') {
          if (rest.length === 0) say('usage: /image <path>');
          else {
            try {
              const image = await readImageAttachment(arg);
              conversation.attach(image);
              say(`(image attached: ${arg}, ${image.bytes.length} bytes; it goes with your next message)`);
            } catch (e) {
              say(`error: ${(e as Error).message}`);
            }
          }
        } else {
          say(command === '/help' ? SESSION_HELP : `unknown command ${command}\n${SESSION_HELP}`);
        }
        continue;
      }
      if (text.length === 0 && conversation.pendingImages.length === 0) continue;

      inFlight = new AbortController();
      const started = performance.now();
      let firstAt = 0;
      let answer = '';
      let tokens = 0;
      let finish: string | null = null;
      let promptTokens: number | undefined;
      try {
        for await (const delta of client.stream(conversation.withUser(text), options.sampling, inFlight.signal)) {
          if (delta.text) {
            if (firstAt === 0) firstAt = performance.now();
            tokens++;
            answer += delta.text;
            output.write(delta.text);
          }
          if (delta.completionTokens !== undefined) tokens = delta.completionTokens;
          if (delta.finishReason) finish = delta.finishReason;
          if (delta.promptTokens !== undefined) promptTokens = delta.promptTokens;
        }
      } catch (e) {
        if (!inFlight.signal.aborted) {
          output.write('\n');
          say(`error: ${e instanceof CliError ? e.message : (e as Error).message}`);
        }
      }
      const cancelled = inFlight.signal.aborted;
      inFlight = null;
      const now = performance.now();
      const rate = tokens > 1 && firstAt > 0 && now > firstAt ? `, ${((tokens - 1) / ((now - firstAt) / 1000)).toFixed(1)} tokens/s` : '';
      const ttft = firstAt > 0 ? `, first token after ${Math.round(firstAt - started)} ms` : '';
      output.write('\n');
      const prompt = promptTokens === undefined ? '' : `, prompt ${promptTokens} tokens`;
      say(`[${cancelled ? 'cancelled, ' : ''}${tokens} tokens${rate}${ttft}${prompt}${finish && !cancelled ? `, ${finish}` : ''}]`);
      conversation.commit(text, answer);
    }
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    rl.close();
  }
}
