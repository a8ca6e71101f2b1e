// `tramontane bench image`: our whole preprocessing (decode, RGB flattening, OpenCV-exact
// cubic resize, normalisation) beside sharp doing decode + bicubic resize of the same bytes
// to the same size, in the same process. Images are generated deterministically.
import { availableParallelism, loadavg } from 'node:os';
import sharp from 'sharp';
import { ImageEncoder } from '../../image/encoder.js';
import { decodeToRgb, DEFAULT_MAX_PIXELS } from '../../image/decode.js';
import { parseOrHelp } from '../args.js';
import { BENCH_IMAGE_SPEC } from '../specs/bench.js';

/** A deterministic photo-like RGB pattern: gradients, edges and hash noise. */
function benchPattern(width: number, height: number): Buffer {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0, o = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const edge = ((x >> 5) + (y >> 6)) & 1 ? 60 : 0;
      const noise = Math.imul(x * 73856093 ^ y * 19349663, 0x9e3779b1) >>> 27;
      data[o++] = ((x * 255) / width + edge + noise) & 255;
      data[o++] = ((y * 255) / height + noise) & 255;
      data[o++] = (((x + y) * 128) / (width + height) + edge * 2) & 255;
    }
  }
  return data;
}

async function makeImages(): Promise<{ name: string; bytes: Buffer }[]> {
  const jpeg = await sharp(benchPattern(4000, 3000), { raw: { width: 4000, height: 3000, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
  const png = await sharp(benchPattern(1540, 1540), { raw: { width: 1540, height: 1540, channels: 3 } })
    .png({ compressionLevel: 6 })
    .toBuffer();
  return [
    { name: 'JPEG 4000x3000', bytes: jpeg },
    { name: 'PNG 1540x1540', bytes: png },
  ];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Runs each candidate once per round, round after round (after one warm-up round), so that
 * load from other processes falls on all of them alike; returns each one's median in ms.
 */
async function interleaved(iterations: number, fns: (() => Promise<unknown>)[]): Promise<number[]> {
  for (const fn of fns) await fn();
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < iterations; i++) {
    for (let k = 0; k < fns.length; k++) {
      const t0 = process.hrtime.bigint();
      await fns[k]();
      times[k].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return times.map(median);
}

export async function benchImage(args: string[]): Promise<number> {
  const parsed = parseOrHelp(BENCH_IMAGE_SPEC, args);
  if (!parsed) return 0;
  const { iterations } = parsed.values;
  const encoder = new ImageEncoder({ patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2 });
  const oneThread = new ImageEncoder({ patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2, resizeThreads: 1 });
  console.log(`image preprocessing, median of ${iterations} interleaved runs (ms/image), load average ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores; sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${sharp.concurrency()} libvips threads`);
  for (const { name, bytes } of await makeImages()) {
    const first = await encoder.encode(bytes);
    const { width, height } = first;
    const [ours, ours1, decode, native, nativeNoShrink] = await interleaved(iterations, [
      () => encoder.encode(bytes),
      () => oneThread.encode(bytes),
      () => decodeToRgb(bytes, name, DEFAULT_MAX_PIXELS),
      () => sharp(bytes).resize(width, height, { kernel: 'cubic', fit: 'fill' }).raw().toBuffer(),
      () => sharp(bytes).resize(width, height, { kernel: 'cubic', fit: 'fill', fastShrinkOnLoad: false }).raw().toBuffer(),
    ]);
    console.log(
      `${name} -> ${width}x${height}\n` +
        `  tramontane, ${encoder.resizeThreads} threads: ${ours.toFixed(1)} (${(ours / native).toFixed(2)}x sharp)\n` +
        `  tramontane, 1 thread:  ${ours1.toFixed(1)} (${(ours1 / native).toFixed(2)}x sharp; ` +
        `decode ${decode.toFixed(1)}, resize+normalise ${(ours1 - decode).toFixed(1)})\n` +
        `  sharp decode + cubic resize: ${native.toFixed(1)} (fastShrinkOnLoad off: ${nativeNoShrink.toFixed(1)})`,
    );
  }
  return 0;
}
