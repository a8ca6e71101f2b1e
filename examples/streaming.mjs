// Streaming: generateStream yields the request's output as it grows; print only what is new.
//   node examples/streaming.mjs
import { LLM } from 'tramontane';

const llm = await LLM.create({ model: process.env.TRAMONTANE_MODEL, device: process.env.TRAMONTANE_DEVICE });
try {
  let printed = 0;
  let last;
  for await (const partial of llm.generateStream('Once upon a time', { temperature: 0, maxTokens: 24 })) {
    const text = partial.outputs[0].text;
    process.stdout.write(text.slice(printed));
    printed = text.length;
    last = partial;
  }
  process.stdout.write('\n');
  console.log(`[${last.outputs[0].tokenIds.length} tokens, finish: ${last.outputs[0].finishReason}]`);
} finally {
  await llm.close();
}
