// Worker thread of decodePool.ts: bytes -> decoded, resized, normalised pixels, so that a
// large image never blocks the main thread's event loop.
import { parentPort } from 'node:worker_threads';
import { decodeToRgb } from './decode.js';
import { ImageEncoder, type ImageEncoderOptions } from './encoder.js';
import { ImageError } from './errors.js';

export interface DecodeRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly label: string;
  readonly options: ImageEncoderOptions;
}

export type DecodeReply =
  | { readonly id: number; readonly ok: true; readonly pixels: Float32Array; readonly tokens: number[]; readonly height: number; readonly width: number; readonly widthTokens: number; readonly heightTokens: number }
  | { readonly id: number; readonly ok: false; readonly imageError: boolean; readonly source: string; readonly message: string };

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
