// From the API's ways of asking for structured output to the engine's StructuredOutputsParams:
//   response_format {type: "json_object"} | {type: "json_schema", json_schema: {name, schema, strict}}
//   structured_outputs {json | regex | choice | grammar | json_object}      (vLLM)
//   guided_json | guided_regex | guided_choice | guided_grammar            (vLLM's older fields)
// At most one of them per request; whatever is given is honoured or refused by name, never dropped.
// The values themselves are validated by resolveSamplingParams (resolveStructured.ts).
import { ApiError } from './errors.js';

const GUIDED = { guided_json: 'json', guided_regex: 'regex', guided_choice: 'choice', guided_grammar: 'grammar' } as const;
const GUIDED_REFUSED = ['guided_whitespace_pattern', 'guided_decoding_backend'];
const SO_FIELDS = { json: 'json', regex: 'regex', choice: 'choice', grammar: 'grammar', json_object: 'jsonObject' } as const;
/** vLLM fields of structured_outputs that change nothing when false/null and are refused otherwise. */
const SO_REFUSED = ['structural_tag', 'disable_fallback', 'disable_any_whitespace', 'disable_additional_properties', 'whitespace_pattern', 'backend'];

const isSet = (v: unknown): boolean => v !== undefined && v !== null;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The structuredOutputs input a request body asks for (not yet validated), or undefined. */
export function structuredFromBody(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const sources: { name: string; value: Record<string, unknown> }[] = [];
  const rf = body.response_format;
  if (isSet(rf)) {
    if (!isObject(rf) || typeof rf.type !== 'string') throw new ApiError(400, 'response_format must be an object with a type', 'response_format');
    if (rf.type === 'json_object') sources.push({ name: 'response_format', value: { jsonObject: true } });
    else if (rf.type === 'json_schema') {
      const js = rf.json_schema;
      if (!isObject(js)) throw new ApiError(400, 'response_format.json_schema must be an object with a schema', 'response_format.json_schema');
      if (!isSet(js.schema)) throw new ApiError(400, 'response_format.json_schema.schema is required', 'response_format.json_schema.schema');
      if (isSet(js.name) && typeof js.name !== 'string') throw new ApiError(400, 'response_format.json_schema.name must be a string', 'response_format.json_schema.name');
      if (isSet(js.strict) && typeof js.strict !== 'boolean') throw new ApiError(400, 'response_format.json_schema.strict must be a boolean', 'response_format.json_schema.strict');
      sources.push({ name: 'response_format', value: { json: js.schema } });
    } else if (rf.type !== 'text') {
      throw new ApiError(400, `response_format.type ${JSON.stringify(rf.type)} is not supported (text, json_object, json_schema)`, 'response_format.type');
    }
  }
  const so = body.structured_outputs;
  if (isSet(so)) {
    if (!isObject(so)) throw new ApiError(400, 'structured_outputs must be an object', 'structured_outputs');
    const value: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(so)) {
      if (k in SO_FIELDS) {
        if (isSet(v) && v !== false) value[SO_FIELDS[k as keyof typeof SO_FIELDS]] = v;
      } else if (SO_REFUSED.includes(k)) {
        if (isSet(v) && v !== false) throw new ApiError(400, `structured_outputs.${k} is not supported`, `structured_outputs.${k}`);
      } else {
        throw new ApiError(400, `structured_outputs.${k} is not a structured outputs field (${Object.keys(SO_FIELDS).join(', ')})`, `structured_outputs.${k}`);
      }
    }
    sources.push({ name: 'structured_outputs', value });
  }
  for (const [field, target] of Object.entries(GUIDED)) {
    if (isSet(body[field])) sources.push({ name: field, value: { [target]: body[field] } });
  }
  for (const field of GUIDED_REFUSED) {
    if (isSet(body[field])) throw new ApiError(400, `${field} is not supported`, field);
  }
  if (sources.length > 1) throw new ApiError(400, `only one way of constraining the output per request, got ${sources.map((s) => s.name).join(' and ')}`, sources[1].name);
  return sources[0]?.value;
}
