// vLLM's StructuredOutputsParams with camelCase names: constrains a sequence's output. Exactly one
// field is set. Resolved and validated by resolveSamplingParams (a bad value is refused naming the field).
/** vLLM's StructuredOutputsParams with camelCase names: constrains a sequence's output; exactly one field is set. */
export interface StructuredOutputsParams {
  /** A JSON schema (an object, or its JSON text): the output is one JSON value valid against it. */
  readonly json?: unknown;
  /** The whole output matches this regular expression. */
  readonly regex?: string;
  /** The output is exactly one of these strings. */
  readonly choice?: readonly string[];
  /** An EBNF grammar (xgrammar's dialect, GBNF-like) whose start rule is `root`. */
  readonly grammar?: string;
  /** Any JSON object (OpenAI's response_format {type: "json_object"}). */
  readonly jsonObject?: boolean;
}
