// Structured output: the text is constrained (xgrammar) to a JSON schema, or to one of a few strings.
//   node examples/structured-output.mjs
import { LLM } from 'tramontane';

const schema = {
  type: 'object',
  properties: { city: { type: 'string', maxLength: 20 }, population: { type: 'integer', minimum: 0 } },
  required: ['city', 'population'],
  additionalProperties: false,
};

const llm = await LLM.create({ model: process.env.TRAMONTANE_MODEL, device: process.env.TRAMONTANE_DEVICE });
try {
  const [obj] = await llm.generate('A city as JSON:', { temperature: 0, maxTokens: 96, structuredOutputs: { json: schema } });
  const value = JSON.parse(obj.outputs[0].text); // valid JSON for the schema, even from random weights
  console.log('json:', value);
  const [yes] = await llm.generate('Is Paris in France? Answer:', { temperature: 0, structuredOutputs: { choice: ['yes', 'no'] } });
  console.log('choice:', yes.outputs[0].text);
} finally {
  await llm.close();
}
