// Validates StructuredOutputsParams (exactly one field, bounded sizes) and turns them into the
// grammar the engine compiles: (kind, source), the key of the compile cache.
import { InvalidRequestError } from '../errors.js';
import type { StructuredOutputsParams } from './params.js';
import { checkJsonSchema, closeIntegerBounds } from './schemaSupport.js';

/** Largest schema / grammar text, in characters. */
export const MAX_GRAMMAR_SOURCE_CHARS = 64 * 1024;
export const MAX_REGEX_CHARS = 4096;
export const MAX_CHOICES = 1024;
export const MAX_CHOICE_CHARS = 4096;

const FIELDS = ['json', 'regex', 'choice', 'grammar', 'jsonObject'] as const;

/** What the grammar worker compiles. `json`: a schema's JSON text; `ebnf`: an EBNF grammar with
 *  root rule `root`; `regex`: a whole-output regular expression; `jsonObject`: any JSON object. */
export interface GrammarSpec {
  readonly kind: 'json' | 'ebnf' | 'regex' | 'jsonObject';
  readonly source: string;
}

function fail(field: string, message: string): never {
  throw new InvalidRequestError(`${field} ${message}`, field);
}

/** Validates and freezes; null/undefined -> null. The schema is parsed when given as text. */
export function resolveStructuredOutputs(v: unknown): StructuredOutputsParams | null {
  if (v === undefined || v === null) return null;
  const F = 'structuredOutputs';
  if (typeof v !== 'object' || Array.isArray(v)) fail(F, 'must be an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(FIELDS as readonly string[]).includes(k)) fail(`${F}.${k}`, `is not a structured outputs field (${FIELDS.join(', ')})`);
  const set = FIELDS.filter((k) => o[k] !== undefined && o[k] !== null && o[k] !== false);
  if (set.length !== 1) fail(F, `must set exactly one of ${FIELDS.join(', ')}, got ${set.length === 0 ? 'none' : set.join(', ')}`);
  const field = set[0];
  const at = `${F}.${field}`;
  switch (field) {
    case 'json': {
      let schema = o.json;
      if (typeof schema === 'string') {
        if (schema.length > MAX_GRAMMAR_SOURCE_CHARS) fail(at, `is ${schema.length} characters, more than ${MAX_GRAMMAR_SOURCE_CHARS}`);
        try {
          schema = JSON.parse(schema);
        } catch (err) {
          fail(at, `is not valid JSON: ${(err as Error).message}`);
        }
      }
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) fail(at, 'must be a JSON schema object');
      const text = JSON.stringify(schema);
      if (text.length > MAX_GRAMMAR_SOURCE_CHARS) fail(at, `is ${text.length} characters as JSON, more than ${MAX_GRAMMAR_SOURCE_CHARS}`);
      checkJsonSchema(schema, at);
      return Object.freeze({ json: JSON.parse(text) as unknown });
    }
    case 'regex': {
      const r = o.regex;
      if (typeof r !== 'string' || r.length === 0) fail(at, 'must be a non-empty string');
      if (r.length > MAX_REGEX_CHARS) fail(at, `is ${r.length} characters, more than ${MAX_REGEX_CHARS}`);
      return Object.freeze({ regex: r });
    }
    case 'choice': {
      const c = o.choice;
      if (!Array.isArray(c) || c.length === 0) fail(at, 'must be a non-empty list of strings');
      if (c.length > MAX_CHOICES) fail(at, `has ${c.length} entries, more than ${MAX_CHOICES}`);
      for (const s of c) {
        if (typeof s !== 'string' || s.length === 0) fail(at, `must contain only non-empty strings, got ${JSON.stringify(s)}`);
        if (s.length > MAX_CHOICE_CHARS) fail(at, `has an entry of ${s.length} characters, more than ${MAX_CHOICE_CHARS}`);
      }
      return Object.freeze({ choice: Object.freeze([...(c as string[])]) });
    }
    case 'grammar': {
      const g = o.grammar;
      if (typeof g !== 'string' || g.trim().length === 0) fail(at, 'must be a non-empty EBNF grammar');
      if (g.length > MAX_GRAMMAR_SOURCE_CHARS) fail(at, `is ${g.length} characters, more than ${MAX_GRAMMAR_SOURCE_CHARS}`);
      return Object.freeze({ grammar: g });
    }
    default: {
      if (o.jsonObject !== true) fail(at, 'must be true');
      return Object.freeze({ jsonObject: true });
    }
  }
}

/** The grammar of resolved params (see resolveStructuredOutputs). */
export function grammarSpec(p: StructuredOutputsParams): GrammarSpec {
  if (p.json !== undefined) return { kind: 'json', source: JSON.stringify(closeIntegerBounds(p.json)) };
  if (p.regex !== undefined) return { kind: 'regex', source: p.regex };
  if (p.choice !== undefined) return { kind: 'ebnf', source: `root ::= ${p.choice.map((c) => JSON.stringify(c)).join(' | ')}` };
  if (p.grammar !== undefined) return { kind: 'ebnf', source: p.grammar };
  return { kind: 'jsonObject', source: '' };
}

/** The library field that names a spec in errors. */
export function specField(p: StructuredOutputsParams): string {
  for (const f of FIELDS) if (p[f] !== undefined) return `structuredOutputs.${f}`;
  return 'structuredOutputs';
}
