// Chat with a tool: the model asks for a call, we run it, and send its result back.
//   node examples/chat-tools.mjs
// toolChoice 'required' constrains the output to a valid call (the tiny model's random weights
// would not choose one by themselves); with a real model leave it at 'auto'.
import { LLM } from 'tramontane';

const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Oslo'] } }, required: ['city'] },
    },
  },
];
const weather = { Paris: 'sunny, 21 C', Oslo: 'snow, -3 C' };

const llm = await LLM.create({ model: process.env.TRAMONTANE_MODEL, device: process.env.TRAMONTANE_DEVICE });
try {
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const [first] = await llm.chat(messages, { temperature: 0, maxTokens: 64 }, { tools, toolChoice: 'required', parallelToolCalls: false });
  const [call] = first.outputs[0].toolCalls;
  console.log(`tool call: ${call.function.name}(${call.function.arguments})`);

  const { city } = JSON.parse(call.function.arguments);
  messages.push({ role: 'assistant', content: null, tool_calls: [call] });
  messages.push({ role: 'tool', tool_call_id: call.id, content: weather[city] ?? 'unknown city' });
  const [answer] = await llm.chat(messages, { temperature: 0, maxTokens: 24 }, { tools, toolChoice: 'none' });
  console.log(`answer: ${JSON.stringify(answer.outputs[0].content)}`);
} finally {
  await llm.close();
}
