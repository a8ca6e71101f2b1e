// One zod schema per request type of the OpenAI-compatible API (vLLM's field names and
// defaults). Unknown fields are ignored, as vLLM does; fields we do not support yet are refused
// by name (see unsupportedFields).
import { z } from 'zod';

/** The schema's bound on logprobs fields (above any vocabulary); the server's --max-logprobs
 *  (ServerContext.samplingLimits) is the limit a request is held to. */
export const LOGPROBS_FIELD_BOUND = 1 << 20;

const stop = z.union([z.string(), z.array(z.string())]).nullish();
const int = () => z.number().int();

/** Sampling fields shared by both generation endpoints (OpenAI's and vLLM's extras). */
const samplingFields = {
  model: z.string().nullish(),
  n: int().min(1).max(128).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().gt(0).max(2).nullish(),
  seed: int().nullish(),
  stop,
  stop_token_ids: z.array(int().min(0)).nullish(),
  ignore_eos: z.boolean().nullish(),
  min_tokens: int().min(0).nullish(),
  max_tokens: int().min(1).nullish(),
  logit_bias: z.record(z.string(), z.number().min(-100).max(100)).nullish(),
  skip_special_tokens: z.boolean().nullish(),
  include_stop_str_in_output: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish(), continuous_usage_stats: z.boolean().nullish() }).nullish(),
  user: z.string().nullish(),
  prompt_logprobs: int().min(0).max(LOGPROBS_FIELD_BOUND).nullish(),
};

export const completionRequestSchema = z.looseObject({
  ...samplingFields,
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(int().min(0)).min(1), z.array(z.array(int().min(0)).min(1)).min(1)]),
  logprobs: int().min(0).max(LOGPROBS_FIELD_BOUND).nullish(),
  echo: z.boolean().nullish(),
  best_of: int().min(1).nullish(),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

const imageUrlPart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.union([z.string(), z.looseObject({ url: z.string(), detail: z.string().nullish() })]),
});
const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const contentPart = z.discriminatedUnion('type', [textPart, imageUrlPart]);

const toolCallInput = z.looseObject({
  id: z.string().max(256),
  type: z.literal('function').nullish(),
  function: z.looseObject({ name: z.string().max(256), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish() }),
});
export const chatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
  name: z.string().nullish(),
  tool_calls: z.array(toolCallInput).max(128).nullish(),
  tool_call_id: z.string().max(256).nullish(),
  prefix: z.boolean().nullish(),
});
const toolDefinition = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().max(256),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});
const toolFields = {
  tools: z.array(toolDefinition).max(128).nullish(),
  tool_choice: z
    .union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().max(256) }) })])
    .nullish(),
};
export type ChatMessageInput = z.infer<typeof chatMessage>;

export const chatRequestSchema = z.looseObject({
  ...samplingFields,
  messages: z.array(chatMessage).min(1),
  max_completion_tokens: int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: int().min(0).max(LOGPROBS_FIELD_BOUND).nullish(),
  add_generation_prompt: z.boolean().nullish(),
  continue_final_message: z.boolean().nullish(),
  ...toolFields,
  parallel_tool_calls: z.boolean().nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

export const tokenizeRequestSchema = z.union([
  z.looseObject({ model: z.string().nullish(), prompt: z.string(), add_special_tokens: z.boolean().nullish() }),
  z.looseObject({ model: z.string().nullish(), messages: z.array(chatMessage).min(1), continue_final_message: z.boolean().nullish(), ...toolFields }),
]);
export type TokenizeRequest = z.infer<typeof tokenizeRequestSchema>;

export const detokenizeRequestSchema = z.looseObject({
  model: z.string().nullish(),
  tokens: z.array(int().min(0)),
});

/** Fields of OpenAI's API that tramontane does not serve yet; sent with a non-null value they
 *  get a 400 naming them. */
const UNSUPPORTED = [
  'functions',
  'function_call',
  'suffix',
  'audio',
  'modalities',
  'prediction',
  'web_search_options',
  'use_beam_search',
];

export function unsupportedFields(body: Record<string, unknown>): string[] {
  const found = UNSUPPORTED.filter((k) => body[k] !== undefined && body[k] !== null);
  return found;
}

/** Turns zod issues into one line naming the fields. */
export function describeIssues(error: z.ZodError): { message: string; param: string | null } {
  const first = error.issues[0];
  const param = first ? first.path.map(String).join('.') || null : null;
  const message = error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`)
    .join('; ');
  return { message, param };
}
