// Python's `json.loads` then `json.dumps(value, ensure_ascii=False)` (default separators ", " and
// ": "), which mistral_common applies to tool-call arguments and tool definitions before
// tokenising them. JavaScript's JSON.parse would lose what Python keeps: a float literal stays a
// float (`1.0` dumps as `1.0`, `1e2` as `100.0`), integers keep every digit, and object keys
// keep their first-insertion order (JS moves integer-like keys first). So the text is parsed into
// a tree that keeps those, and dumped the way CPython does.

/** A number as Python would print it after json.loads (int digits, or float repr). */
export class PyNumber {
  constructor(readonly text: string) {}
}

/** A dict: keys in first-insertion order; a repeated key keeps its first place, last value. */
export class PyObject {
  constructor(readonly entries: [string, PyValue][]) {}
}

/** A JSON value as Python's json module reads it (ints and floats kept apart). */
export type PyValue = null | boolean | string | PyNumber | PyObject | PyValue[];

/** Text that is not JSON Python's json.loads would read, or a value json.dumps cannot write; the message says where. */
export class PyJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PyJsonError';
  }
}

/** CPython's repr() of a double (what json.dumps prints for a float). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument gives the shortest digits that round-trip, as repr does.
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp >= 0) {
    const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    return `${sign}${intPart}.${digits.slice(exp + 1) || '0'}`;
  }
  return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?/y;
const WS = /[ \t\n\r]*/y;

/** Python's json.loads (NaN, Infinity and -Infinity included); throws PyJsonError. */
export function parsePyJson(text: string): PyValue {
  let at = 0;
  const skip = () => {
    WS.lastIndex = at;
    WS.exec(text);
    at = WS.lastIndex;
  };
  const fail = (what: string): never => {
    throw new PyJsonError(`${what} at char ${at}`);
  };
  const value = (depth: number): PyValue => {
    if (depth > 512) fail('nesting too deep');
    skip();
    const c = text[at];
    if (c === '{') {
      at++;
      const entries: [string, PyValue][] = [];
      const index = new Map<string, number>();
      skip();
      if (text[at] === '}') {
        at++;
        return new PyObject(entries);
      }
      for (;;) {
        skip();
        if (text[at] !== '"') fail('expecting property name enclosed in double quotes');
        const key = string();
        skip();
        if (text[at] !== ':') fail("expecting ':' delimiter");
        at++;
        const v = value(depth + 1);
        const seen = index.get(key);
        if (seen === undefined) {
          index.set(key, entries.length);
          entries.push([key, v]);
        } else entries[seen][1] = v;
        skip();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === '}') {
          at++;
          return new PyObject(entries);
        }
        fail("expecting ',' delimiter");
      }
    }
    if (c === '[') {
      at++;
      const items: PyValue[] = [];
      skip();
      if (text[at] === ']') {
        at++;
        return items;
      }
      for (;;) {
        items.push(value(depth + 1));
        skip();
        if (text[at] === ',') {
          at++;
          continue;
        }
        if (text[at] === ']') {
          at++;
          return items;
        }
        fail("expecting ',' delimiter");
      }
    }
    if (c === '"') return string();
    for (const [word, v] of [['null', null], ['true', true], ['false', false], ['NaN', new PyNumber('NaN')], ['Infinity', new PyNumber('Infinity')], ['-Infinity', new PyNumber('-Infinity')]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = at;
    const m = NUMBER.exec(text);
    if (!m) return fail('expecting value');
    at = NUMBER.lastIndex;
    if (m[1] === undefined && m[2] === undefined) {
      // A Python int: every digit kept; "-0" is 0.
      const digits = m[0].replace(/^-0$/, '0');
      return new PyNumber(digits);
    }
    return new PyNumber(pyFloatRepr(Number(m[0])));
  };
  const string = (): string => {
    const start = at;
    at++;
    for (;;) {
      const c = text.charCodeAt(at);
      if (Number.isNaN(c)) fail('unterminated string');
      if (c === 0x22) break;
      if (c === 0x5c) at++;
      at++;
    }
    at++;
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch (err) {
      return fail(`invalid string (${(err as Error).message})`);
    }
  };
  const out = value(0);
  skip();
  if (at !== text.length) fail('extra data');
  return out;
}

/** Python's json.loads, or null when the text is not JSON (mistral_common then keeps the text). */
export function tryParsePyJson(text: string): { value: PyValue } | null {
  try {
    return { value: parsePyJson(text) };
  } catch (err) {
    if (err instanceof PyJsonError) return null;
    throw err;
  }
}

/** A JS value (already parsed, e.g. a request body) seen as Python would hold it. */
export function fromJs(v: unknown): PyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return new PyNumber(Number.isSafeInteger(v) ? String(v) : pyFloatRepr(v));
  if (Array.isArray(v)) return v.map(fromJs);
  if (v instanceof PyNumber || v instanceof PyObject) return v;
  if (typeof v === 'object') return new PyObject(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromJs(x)]));
  throw new PyJsonError(`cannot serialise a ${typeof v}`);
}

/** Python's json.dumps(value, ensure_ascii=False). */
export function dumpPyJson(v: PyValue): string {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  // Python escapes ", \ and U+0000..U+001F (\b \f \n \r \t by name, others \u00xx), as JSON.stringify.
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof PyNumber) return v.text;
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `[${v.map(dumpPyJson).join(', ')}]`;
  if (v.entries.length === 0) return '{}';
  return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}: ${dumpPyJson(x)}`).join(', ')}}`;
}
