// An image prompt, as the model card's base-model example: the image's tokens, then the text.
//   node examples/image-prompt.mjs [path-or-url-of-an-image]
import { fileURLToPath } from 'node:url';
import { LLM } from 'tramontane';

const image = process.argv[2] ?? fileURLToPath(new URL('./gradient.png', import.meta.url));
const llm = await LLM.create({ model: process.env.TRAMONTANE_MODEL, device: process.env.TRAMONTANE_DEVICE });
try {
  const { tokens, images } = await llm.getTokenizer().encodeUserContent([
    { type: 'image_url', imageUrl: image },
    { type: 'text', text: 'The image shows' },
  ]);
  console.log(`prompt: ${tokens.length} tokens, ${images.length} image`);
  const [out] = await llm.generate({ promptTokenIds: tokens, multiModalData: { image: images } }, { temperature: 0, maxTokens: 16 });
  console.log(JSON.stringify(out.outputs[0].text));
} finally {
  await llm.close();
}
