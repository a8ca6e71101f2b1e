// A single pass over a JSON body's bytes as they arrive, before JSON.parse: refuses a body
// whose arrays or objects are longer, whose nesting is deeper, or whose values are more
// numerous than the server's limits. JSON.parse of 16M numbers blocks the event loop for
// seconds and the validator after it would build one issue per element; this scan keeps no
// state per value, runs chunk by chunk (nothing is buffered past the first limit crossed)
// and stops scanning there. Bytes, not characters: UTF-8 never puts
// an ASCII byte inside a multi-byte character, so the structure reads the same.

export interface JsonBounds {
  /** Most elements of one array, or members of one object. */
  readonly maxItems: number;
  /** Most values in the whole body (array elements and object members together). */
  readonly maxValues: number;
  /** Deepest nesting of arrays and objects. */
  readonly maxDepth: number;
}

/** What crossed a limit: a message naming the place (`messages.3.content`) and the limit. */
export class JsonBoundsError extends Error {
  constructor(
    message: string,
    readonly param: string | null,
  ) {
    super(message);
    this.name = 'JsonBoundsError';
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
/** Bytes of a key kept for messages. */
const KEY_BYTES = 64;

interface Frame {
  readonly array: boolean;
  /** The key (of the enclosing object) or index this container sits at. */
  readonly at: string;
  count: number;
}

/** Feed a body chunk by chunk; push() throws JsonBoundsError at the first bound crossed.
 *  Malformed JSON is left to JSON.parse. */
export class JsonBoundsScanner {
  private readonly stack: Frame[] = [];
  private values = 0;
  private inString = false;
  private escaped = false;
  private readonly stringHead: number[] = [];
  private lastString = '';
  private key = '';

  constructor(private readonly bounds: JsonBounds) {}

  push(bytes: Uint8Array): void {
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      const c = bytes[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          this.lastString = Buffer.from(this.stringHead).toString('utf8');
          continue;
        }
        if (this.stringHead.length < KEY_BYTES) this.stringHead.push(c);
        continue;
      }
      if (c === QUOTE) {
        this.inString = true;
        this.stringHead.length = 0;
      } else if (c === COLON) this.key = this.lastString;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) this.open(c === OPEN_ARRAY);
      else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) this.stack.pop();
      else if (c === COMMA) this.next();
    }
  }

  private path(): string {
    return this.stack
      .slice(1)
      .map((f) => f.at)
      .join('.');
  }

  private open(array: boolean): void {
    const top = this.stack[this.stack.length - 1];
    if (this.stack.length >= this.bounds.maxDepth) {
      const where = this.path();
      throw new JsonBoundsError(`the request body nests arrays and objects more than ${this.bounds.maxDepth} deep (at ${where || 'body'})`, where || null);
    }
    this.stack.push({ array, at: top === undefined ? '' : top.array ? String(top.count - 1) : this.key, count: 1 });
  }

  private next(): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) return;
    if (++top.count > this.bounds.maxItems) {
      const where = this.path();
      throw new JsonBoundsError(
        `${where || 'body'}: the ${top.array ? 'array' : 'object'} has more than ${this.bounds.maxItems} ${top.array ? 'elements' : 'members'} (the server's limit)`,
        where || null,
      );
    }
    if (++this.values > this.bounds.maxValues) {
      throw new JsonBoundsError(`the request body holds more than ${this.bounds.maxValues} values (the server's limit)`, null);
    }
  }
}

/** The whole text at once (tests, tools). */
export function checkJsonBounds(text: string, bounds: JsonBounds): void {
  new JsonBoundsScanner(bounds).push(Buffer.from(text, 'utf8'));
}
