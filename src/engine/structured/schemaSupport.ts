// Which JSON-schema keywords constrained decoding enforces. Measured on @mlc-ai/web-xgrammar
// 0.1.27 (its JSON-schema converter, strict mode, any whitespace): a keyword it ignores or gets
// wrong would let through output that fails the schema, so such keywords are refused by name
// rather than silently dropped:
//   never enforced:  not, if/then/else, dependentRequired, dependentSchemas, contains,
//                    minContains, maxContains, multipleOf, uniqueItems, oneOf (taken as anyOf:
//                    a value matching two branches passes), allOf of several schemas
//   number bounds:   minimum/maximum/exclusive* are ignored on type "number" (enforced on
//                    "integer", except a lone lower bound, which this module closes with
//                    maximum 2^53-1 so the converter applies it)
//   unknown formats: accepted as any string (known ones are enforced, FORMATS below)
// Schema types it does not know abort its converter: refused here first.
import { InvalidRequestError } from '../errors.js';

const REFUSED = new Set([
  'not', 'if', 'then', 'else', 'dependentRequired', 'dependentSchemas', 'dependencies', 'contains', 'minContains', 'maxContains',
  'multipleOf', 'uniqueItems', 'oneOf', '$dynamicRef', '$dynamicAnchor', '$recursiveRef', '$recursiveAnchor',
]);
const FORMATS = new Set(['email', 'date', 'time', 'date-time', 'duration', 'ipv4', 'ipv6', 'hostname', 'uuid', 'uri', 'uri-reference', 'uri-template', 'json-pointer', 'relative-json-pointer']);
const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);
const BOUNDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'];
/** Keywords holding one subschema / a map of them / a list of them. */
const SUB = ['items', 'additionalProperties', 'unevaluatedProperties', 'unevaluatedItems', 'propertyNames', 'additionalItems'];
const SUB_MAPS = ['properties', 'patternProperties', '$defs', 'definitions'];
const SUB_LISTS = ['anyOf', 'allOf', 'prefixItems'];
const MAX_DEPTH = 64;

function fail(at: string, message: string): never {
  throw new InvalidRequestError(`${at}: ${message}`, at.split(/[./[]/, 2).slice(0, 2).join('.'));
}

/** Throws an InvalidRequestError naming the first unsupported keyword (with its path). Rewrites
 *  nothing: see closeIntegerBounds for the one rewrite. */
export function checkJsonSchema(schema: unknown, at: string, depth = 0): void {
  if (typeof schema === 'boolean') return;
  if (depth > MAX_DEPTH) fail(at, `nests deeper than ${MAX_DEPTH} levels`);
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) fail(at, 'must be a schema object or boolean');
  const s = schema as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    if (REFUSED.has(k)) fail(`${at}.${k}`, `the JSON-schema keyword "${k}" is not supported by constrained decoding`);
  }
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  for (const t of types) if (typeof t !== 'string' || !TYPES.has(t)) fail(`${at}.type`, `unknown type ${JSON.stringify(t)}`);
  if (types.includes('number')) {
    for (const b of BOUNDS) if (s[b] !== undefined) fail(`${at}.${b}`, `the keyword "${b}" is not supported on type "number" by constrained decoding (it is on "integer")`);
  }
  for (const b of BOUNDS) if (s[b] !== undefined && (typeof s[b] !== 'number' || !Number.isFinite(s[b]))) fail(`${at}.${b}`, 'must be a finite number');
  if (s.format !== undefined && (typeof s.format !== 'string' || !FORMATS.has(s.format))) {
    fail(`${at}.format`, `the string format ${JSON.stringify(s.format)} is not supported by constrained decoding (${[...FORMATS].join(', ')})`);
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 1) fail(`${at}.allOf`, 'allOf of more than one schema is not supported by constrained decoding');
  for (const k of SUB) if (s[k] !== undefined && typeof s[k] !== 'boolean') checkJsonSchema(s[k], `${at}.${k}`, depth + 1);
  for (const k of SUB_MAPS) {
    const m = s[k];
    if (m === undefined) continue;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) fail(`${at}.${k}`, 'must be an object of schemas');
    for (const [name, sub] of Object.entries(m)) checkJsonSchema(sub, `${at}.${k}.${name}`, depth + 1);
  }
  for (const k of SUB_LISTS) {
    const l = s[k];
    if (l === undefined) continue;
    if (!Array.isArray(l) || l.length === 0) fail(`${at}.${k}`, 'must be a non-empty list of schemas');
    l.forEach((sub, i) => checkJsonSchema(sub, `${at}.${k}[${i}]`, depth + 1));
  }
}

/** A copy where every integer with a lower bound and no upper bound gets maximum 2^53-1 (the
 *  converter drops a lone lower bound). */
export function closeIntegerBounds(schema: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH || typeof schema !== 'object' || schema === null) return schema;
  if (Array.isArray(schema)) return schema.map((x) => closeIntegerBounds(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'enum' || k === 'const' || k === 'default' || k === 'examples' ? v : closeIntegerBounds(v, depth + 1);
  const types = Array.isArray(out.type) ? out.type : [out.type];
  const lower = out.minimum !== undefined || out.exclusiveMinimum !== undefined;
  const upper = out.maximum !== undefined || out.exclusiveMaximum !== undefined;
  if (types.includes('integer') && lower && !upper) out.maximum = Number.MAX_SAFE_INTEGER;
  return out;
}
