// Worker thread of decodePool.ts: bytes -> decoded, resized, normalised pixels, so that a
// large image never blocks the main thread's event loop.
import { parentPort } from 'node:worker_threads';
import { decodeToRgb } from './decode.js';
import { ImageEncoder } from './encoder.js';
import type { DecodeReply, DecodeRequest } from './decodeMessages.js';
import { ImageError } from './errors.js';

const encoders = new Map<string, ImageEncoder>();

parentPort?.on('message', (req: DecodeRequest) => {
  void (async () => {
    try {
      const key = JSON.stringify(req.options);
      let enc = encoders.get(key);
      if (!enc) encoders.set(key, (enc = new ImageEncoder({ ...req.options, resizeThreads: 1 })));
      const rgb = await decodeToRgb(req.bytes, req.label, enc.maxPixels);
      const r = enc.encodeRgb(rgb, req.label);
      const reply: DecodeReply = { id: req.id, ok: true, ...r };
      parentPort?.postMessage(reply, [r.pixels.buffer as ArrayBuffer]);
    } catch (err) {
      const reply: DecodeReply =
        err instanceof ImageError
          ? { id: req.id, ok: false, imageError: true, source: err.source, message: err.reason }
          : { id: req.id, ok: false, imageError: false, source: req.label, message: err instanceof Error ? err.message : String(err) };
      parentPort?.postMessage(reply);
    }
  })();
});
