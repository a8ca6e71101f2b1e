// Offline generation, as vLLM's LLM.generate: several prompts batched together.
//   node examples/generate.mjs
import { LLM } from 'tramontane';

// No model: the embedded tiny checkpoint (random weights, meaningless text).
const llm = await LLM.create({ model: process.env.TRAMONTANE_MODEL, device: process.env.TRAMONTANE_DEVICE });
try {
  const prompts = ['The capital of France is', 'Mistral is a wind that'];
  const outputs = await llm.generate(prompts, { temperature: 0.7, topP: 0.95, seed: 1, maxTokens: 16 });
  for (const out of outputs) {
    const o = out.outputs[0];
    console.log(`${JSON.stringify(out.prompt)} -> ${JSON.stringify(o.text)} (${o.tokenIds.length} tokens, finish: ${o.finishReason})`);
  }
} finally {
  await llm.close();
}
