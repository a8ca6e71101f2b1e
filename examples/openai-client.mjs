// The official `openai` client against tramontane's OpenAI-compatible server.
//   TRAMONTANE_URL=http://127.0.0.1:8000/v1 node examples/openai-client.mjs   (a running `tramontane serve`)
//   node examples/openai-client.mjs                                            (starts one in-process)
import OpenAI from 'openai';
import { LLM, createServer } from 'tramontane';

let baseURL = process.env.TRAMONTANE_URL;
let stop = async () => {};
if (!baseURL) {
  const llm = await LLM.create({ model: process.env.TRAMONTANE_MODEL, device: process.env.TRAMONTANE_DEVICE });
  const app = createServer(llm);
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseURL = `http://127.0.0.1:${app.server.address().port}/v1`;
  stop = async () => {
    await app.close();
    await llm.close();
  };
}

try {
  const client = new OpenAI({ baseURL, apiKey: process.env.TRAMONTANE_API_KEY ?? 'unused' });
  const { data } = await client.models.list();
  const model = data[0].id;
  console.log(`model: ${model}`);

  const reply = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16, temperature: 0 });
  console.log(`chat: ${JSON.stringify(reply.choices[0].message.content)} (${reply.usage.completion_tokens} tokens, ${reply.system_fingerprint})`);

  process.stdout.write('stream: ');
  const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Count to five.' }], max_tokens: 16, stream: true });
  for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? '');
  process.stdout.write('\n');
} finally {
  await stop();
}
