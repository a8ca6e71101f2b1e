// A single pass over a JSON body's text, before JSON.parse: refuses a body whose arrays or
// objects are longer, whose nesting is deeper, or whose values are more numerous than the
// server's limits. JSON.parse of 16M numbers blocks the event loop for seconds and the
// validator after it would build one issue per element; this scan costs O(bytes) with no
// allocation per value, and stops at the first limit crossed.

export interface JsonBounds {
  /** Most elements of one array, or keys of one object. */
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

interface Frame {
  readonly array: boolean;
  /** The key (of the enclosing object) or index this container sits at. */
  readonly at: string;
  count: number;
}

function path(stack: readonly Frame[]): string {
  return stack
    .slice(1)
    .map((f) => f.at)
    .join('.');
}

/** Throws JsonBoundsError when `text` crosses a bound. Malformed JSON is left to JSON.parse. */
export function checkJsonBounds(text: string, bounds: JsonBounds): void {
  const stack: Frame[] = [];
  let values = 0;
  let lastString = -1; // start of the last string (a key when a colon follows)
  let lastStringEnd = -1;
  let key = '';
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      lastString = i + 1;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i += 2;
        else if (d === QUOTE) break;
        else i++;
      }
      lastStringEnd = i;
      continue;
    }
    if (c === COLON) {
      key = text.slice(lastString, Math.min(lastStringEnd, lastString + 64));
      continue;
    }
    if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      const top = stack[stack.length - 1];
      const at = top === undefined ? '' : top.array ? String(top.count - 1) : key;
      if (stack.length >= bounds.maxDepth) {
        throw new JsonBoundsError(`the request body nests arrays and objects more than ${bounds.maxDepth} deep (at ${path(stack) || 'body'})`, path(stack) || null);
      }
      stack.push({ array: c === OPEN_ARRAY, at, count: 1 });
      continue;
    }
    if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      stack.pop();
      continue;
    }
    if (c === COMMA) {
      const top = stack[stack.length - 1];
      if (top === undefined) continue;
      if (++top.count > bounds.maxItems) {
        const where = path(stack) || 'body';
        const what = top.array ? 'array' : 'object';
        throw new JsonBoundsError(`${where}: the ${what} has more than ${bounds.maxItems} ${top.array ? 'elements' : 'members'} (the server's limit)`, path(stack) || null);
      }
      if (++values > bounds.maxValues) {
        throw new JsonBoundsError(`the request body holds more than ${bounds.maxValues} values (the server's limit)`, null);
      }
    }
  }
}
