// The mistral tool-call parser (vLLM's `--tool-call-parser mistral`, v7 format): what follows the
// [TOOL_CALLS] token is a JSON list of {"name": ..., "arguments": {...}}. It is read
// incrementally, as text arrives: a call's name is announced once its string is complete, then
// its arguments come out as fragments of Python's json.dumps(arguments, ensure_ascii=False)
// (", " and ": " separators, floats as repr), which is what vLLM returns. The streamed fragments
// and the whole-text parse are the same machine, so they always agree.
import { PyJsonError, pyFloatRepr } from '../tokenizer/pyJson.js';

/** A call as the API returns it: arguments are JSON text. */
export interface ParsedToolCall {
  readonly name: string;
  readonly arguments: string;
}

/** What the stream parser reports: a call's name, or a fragment of its arguments. */
export type ToolCallEvent = { readonly kind: 'name'; readonly index: number; readonly name: string } | { readonly kind: 'arguments'; readonly index: number; readonly delta: string };

type Token = { t: 'punct'; v: '[' | ']' | '{' | '}' | ':' | ',' } | { t: 'string'; v: string } | { t: 'scalar'; v: string };

type Frame =
  | { kind: 'array'; state: 'first' | 'value' | 'comma' }
  | { kind: 'object'; state: 'first' | 'key' | 'colon' | 'value' | 'comma'; key: string | null };

const NUMBER = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;

/** One JSON scalar in Python's json.dumps form. */
function scalarText(raw: string): string {
  if (raw === 'true' || raw === 'false' || raw === 'null' || raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') return raw;
  const m = NUMBER.exec(raw);
  if (!m) throw new PyJsonError(`not a JSON value: ${JSON.stringify(raw.slice(0, 40))}`);
  if (m[1] === undefined && m[2] === undefined) return raw === '-0' ? '0' : raw;
  return pyFloatRepr(Number(raw));
}

/** Parses tool calls out of streamed text after [TOOL_CALLS]: names and argument fragments as they arrive. */
export class ToolCallStreamParser {
  private buf = '';
  private at = 0;
  private readonly stack: Frame[] = [];
  private started = false;
  private done = false;
  private failed: string | null = null;
  /** Calls so far: name (null until known) and the arguments text so far. */
  private readonly calls: { name: string | null; args: string; argsDone: boolean; announced: boolean; sent: number }[] = [];
  /** Depth (stack length) at which the current call's arguments value started; -1: not inside. */
  private argsDepth = -1;

  /** The calls parsed (valid only when `complete`). */
  get result(): ParsedToolCall[] {
    return this.calls.map((c) => ({ name: c.name ?? '', arguments: c.args }));
  }

  /** The list closed, every call has a name and arguments, nothing but whitespace after. */
  get complete(): boolean {
    return this.done && this.failed === null && this.calls.every((c) => c.name !== null && c.argsDone);
  }

  get error(): string | null {
    return this.failed;
  }

  /** Feeds more text; returns the events it completes. `final`: no more text will come. */
  push(text: string, final = false): ToolCallEvent[] {
    this.buf += text;
    const events: ToolCallEvent[] = [];
    if (this.failed !== null) return events;
    try {
      for (;;) {
        const tok = this.nextToken(final);
        if (tok === null) break;
        this.consume(tok);
      }
      if (final && !this.done) this.failed = 'the tool-call JSON ended before its list closed';
    } catch (err) {
      if (!(err instanceof PyJsonError)) throw err;
      this.failed = err.message;
    }
    this.emit(events);
    return events;
  }

  private emit(events: ToolCallEvent[]): void {
    this.calls.forEach((c, index) => {
      if (c.name === null) return;
      if (!c.announced) {
        c.announced = true;
        events.push({ kind: 'name', index, name: c.name });
      }
      if (c.args.length > c.sent) {
        events.push({ kind: 'arguments', index, delta: c.args.slice(c.sent) });
        c.sent = c.args.length;
      }
    });
  }

  private nextToken(final: boolean): Token | null {
    const s = this.buf;
    while (this.at < s.length && ' \t\n\r'.includes(s[this.at])) this.at++;
    if (this.at >= s.length) return null;
    if (this.done) throw new PyJsonError(`extra data after the tool-call list at char ${this.at}`);
    const c = s[this.at];
    if ('[]{}:,'.includes(c)) {
      this.at++;
      return { t: 'punct', v: c as '[' };
    }
    if (c === '"') {
      let i = this.at + 1;
      while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      if (i >= s.length) return null; // incomplete
      const raw = s.slice(this.at, i + 1);
      this.at = i + 1;
      try {
        return { t: 'string', v: JSON.parse(raw) as string };
      } catch {
        throw new PyJsonError(`invalid string ${raw.slice(0, 40)}`);
      }
    }
    let i = this.at;
    while (i < s.length && !' \t\n\r[]{}:,"'.includes(s[i])) i++;
    if (i >= s.length && !final) return null; // a number may go on
    const raw = s.slice(this.at, i);
    this.at = i;
    return { t: 'scalar', v: scalarText(raw) };
  }

  private appendArgs(text: string): void {
    if (this.argsDepth >= 0) this.calls[this.calls.length - 1].args += text;
  }

  /** A value (scalar, string or container start) in the position the top frame expects. */
  private value(tok: Token): void {
    const depth = this.stack.length;
    const top = this.stack[depth - 1];
    const call = this.calls[this.calls.length - 1];
    // The value of "arguments" in a call object (depth 2: list > call).
    if (depth === 2 && top.kind === 'object' && top.key === 'arguments' && this.argsDepth < 0) {
      if (call.args.length > 0 || call.argsDone) throw new PyJsonError('a call has "arguments" twice');
      this.argsDepth = depth;
    }
    if (depth === 2 && top.kind === 'object' && top.key === 'name') {
      if (tok.t !== 'string') throw new PyJsonError('a call\'s "name" must be a string');
      if (call.name !== null) throw new PyJsonError('a call has "name" twice');
      call.name = tok.v;
    }
    if (tok.t === 'punct') {
      this.appendArgs(tok.v);
      this.stack.push(tok.v === '[' ? { kind: 'array', state: 'first' } : { kind: 'object', state: 'first', key: null });
      if (depth === 1) {
        if (tok.v !== '{') throw new PyJsonError('each tool call must be a JSON object');
        this.calls.push({ name: null, args: '', argsDone: false, announced: false, sent: 0 });
      }
      return;
    }
    if (depth === 1) throw new PyJsonError('each tool call must be a JSON object');
    this.appendArgs(tok.t === 'string' ? JSON.stringify(tok.v) : tok.v);
    this.afterValue();
  }

  /** A value just ended at the current depth. */
  private afterValue(): void {
    const top = this.stack[this.stack.length - 1];
    if (this.argsDepth === this.stack.length) {
      this.calls[this.calls.length - 1].argsDone = true;
      this.argsDepth = -1;
    }
    if (top) top.state = 'comma';
  }

  private consume(tok: Token): void {
    if (!this.started) {
      this.started = true;
      if (tok.t !== 'punct' || tok.v !== '[') throw new PyJsonError('the tool calls must be a JSON list');
      this.stack.push({ kind: 'array', state: 'first' });
      return;
    }
    const top = this.stack[this.stack.length - 1];
    if (top.kind === 'array') {
      if (tok.t === 'punct' && tok.v === ']' && (top.state === 'first' || top.state === 'comma')) return this.close();
      if (tok.t === 'punct' && tok.v === ',' && top.state === 'comma') {
        top.state = 'value';
        this.appendArgs(', ');
        return;
      }
      if (top.state === 'comma') throw new PyJsonError("expecting ',' or ']'");
      if (tok.t === 'punct' && tok.v !== '[' && tok.v !== '{') throw new PyJsonError(`unexpected '${tok.v}'`);
      return this.value(tok);
    }
    switch (top.state) {
      case 'first':
      case 'key':
        if (top.state === 'first' && tok.t === 'punct' && tok.v === '}') return this.close();
        if (tok.t !== 'string') throw new PyJsonError('expecting a property name in double quotes');
        top.key = tok.v;
        top.state = 'colon';
        this.appendArgs(JSON.stringify(tok.v));
        return;
      case 'colon':
        if (tok.t !== 'punct' || tok.v !== ':') throw new PyJsonError("expecting ':'");
        top.state = 'value';
        this.appendArgs(': ');
        return;
      case 'value':
        if (tok.t === 'punct' && tok.v !== '[' && tok.v !== '{') throw new PyJsonError(`unexpected '${tok.v}'`);
        return this.value(tok);
      case 'comma':
        if (tok.t === 'punct' && tok.v === '}') return this.close();
        if (tok.t !== 'punct' || tok.v !== ',') throw new PyJsonError("expecting ',' or '}'");
        top.state = 'key';
        this.appendArgs(', ');
        return;
    }
  }

  private close(): void {
    const frame = this.stack.pop()!;
    this.appendArgs(frame.kind === 'array' ? ']' : '}');
    if (this.stack.length === 0) {
      this.done = true;
      return;
    }
    if (this.stack.length === 1) {
      // A call object closed: it needs a name; absent arguments are {}.
      const call = this.calls[this.calls.length - 1];
      if (call.name === null) throw new PyJsonError('a tool call has no "name"');
      if (!call.argsDone) {
        call.args = '{}';
        call.argsDone = true;
      }
    }
    this.afterValue();
  }
}

/** Parses a whole tool-call list; null when it is not one (the text then stays content). */
export function parseToolCalls(text: string): ParsedToolCall[] | null {
  const p = new ToolCallStreamParser();
  p.push(text, true);
  return p.complete ? p.result : null;
}
