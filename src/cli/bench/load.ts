// `tramontane bench load --model DIR`: how fast a checkpoint's weights reach the device, beside
// the floor the machine sets: the rate of reading the weight files once (the same number of
// positional reads in flight, into ordinary buffers, like `cat files > /dev/null` but
// parallel) and the rate of copying host staging buffers to the device (pinned on CUDA). The
// load can go no faster than the slower of the two. Results as JSON with --output-json.
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { parseOrHelp } from '../args.js';
import { createDeviceBackend, defaultDevice } from '../../backend/deviceBackend.js';
import type { Backend } from '../../backend/backend.js';
import { freeModelWeights, loadModelWeights } from '../../model/deviceWeights.js';
import { openModelSource } from '../../model/modelSource.js';
import { isLocated } from '../../model/tensorLocation.js';
import { CliError } from '../errors.js';
import { BENCH_LOAD_SPEC } from '../specs/bench.js';
import { weightLoadProgress } from '../progress.js';

const GB = 1e9;

/** Reads every byte of `paths` once, `readers` chunks in flight; returns seconds. */
export async function readFilesOnce(paths: readonly string[], readers: number, chunkBytes: number): Promise<{ bytes: number; seconds: number }> {
  const start = performance.now();
  const handles = await Promise.all(paths.map((p) => open(p, 'r')));
  try {
    const jobs: { h: number; pos: number; len: number }[] = [];
    let bytes = 0;
    for (const [h, fh] of handles.entries()) {
      const size = (await fh.stat()).size;
      bytes += size;
      for (let pos = 0; pos < size; pos += chunkBytes) jobs.push({ h, pos, len: Math.min(chunkBytes, size - pos) });
    }
    let next = 0;
    const reader = async () => {
      const buf = new Uint8Array(chunkBytes);
      while (next < jobs.length) {
        const j = jobs[next++];
        let done = 0;
        while (done < j.len) {
          const { bytesRead } = await handles[j.h].read(buf, done, j.len - done, j.pos + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(readers, Math.max(1, jobs.length)) }, reader));
    return { bytes, seconds: (performance.now() - start) / 1000 };
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
}

/** Copies staging buffers into one device tensor until `total` bytes went; returns seconds. */
export async function hostToDeviceRate(backend: Backend, total: number, readers: number, chunkBytes: number): Promise<{ bytes: number; seconds: number }> {
  if (!backend.createWeightSink) throw new CliError(`bench load: the ${backend.name} backend cannot stream weights`);
  const sink = backend.createWeightSink();
  const elems = Math.max(1, Math.floor(Math.min(total, 1 << 30) / 2));
  const dst = sink.allocWeight([elems], 'bf16');
  try {
    const bufs = sink.stagingBuffers(readers, Math.min(chunkBytes, elems * 2));
    const chunkElems = bufs[0].byteLength / 2;
    let offset = 0;
    let sent = 0;
    const start = performance.now();
    let next = 0;
    const jobs = Math.ceil(total / bufs[0].byteLength);
    await Promise.all(
      bufs.map(async (buf) => {
        while (next < jobs) {
          next++;
          const n = Math.min(chunkElems, elems - offset);
          const at = offset;
          offset = offset + n >= elems ? 0 : offset + n;
          await sink.write(dst, at, buf.subarray(0, n * 2), 'bf16');
          sent += n * 2;
        }
      }),
    );
    await sink.finish();
    return { bytes: sent, seconds: (performance.now() - start) / 1000 };
  } finally {
    sink.close();
    backend.free(dst);
  }
}

export async function benchLoad(args: string[]): Promise<number> {
  const parsed = parseOrHelp(BENCH_LOAD_SPEC, args);
  if (!parsed) return 0;
  const v = parsed.values;
  if (v.model === undefined) throw new CliError('bench load: --model DIR is required (a checkpoint directory or an org/name in the Hugging Face cache)');
  const { readers, 'num-iters': iters } = v;
  const chunkBytes = v['chunk-mib'] * 2 ** 20;
  let source;
  try {
    source = await openModelSource({ model: v.model, loadFormat: 'auto' });
  } catch (e) {
    throw new CliError(`bench load: ${(e as Error).message}`);
  }
  const weights = source.weights;
  try {
    if (!isLocated(weights)) throw new CliError('bench load: this source has no weight files');
    const paths = [...new Set(weights.names().map((n) => weights.locate(n).path))].sort();
    const backend = await createDeviceBackend(v.device ?? (await defaultDevice()));
    try {
      const about = backend.describe();
      console.log(`model ${source.origin} (${paths.length} weight file(s), ${weights.config.dtype}), ${backend.name} backend on ${about.device}`);
      console.log(`readers ${readers}, chunk ${chunkBytes / 2 ** 20} MiB, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`);
      let read = null;
      let h2d = null;
      if (!v['skip-floor']) {
        read = await readFilesOnce(paths, readers, chunkBytes);
        console.log(`floor: read the files once: ${(read.bytes / GB).toFixed(2)} GB in ${read.seconds.toFixed(2)} s = ${(read.bytes / read.seconds / GB).toFixed(2)} GB/s`);
        h2d = await hostToDeviceRate(backend, Math.min(read.bytes, 8 * GB), readers, chunkBytes);
        console.log(`floor: host-to-device from staging buffers: ${(h2d.bytes / GB).toFixed(2)} GB in ${h2d.seconds.toFixed(2)} s = ${(h2d.bytes / h2d.seconds / GB).toFixed(2)} GB/s`);
      }
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < iters; i++) {
        let done = { bytes: 0, seconds: 0 };
        const progress = weightLoadProgress();
        const loaded = await loadModelWeights(weights, backend, {
          parallel: { readers, chunkBytes },
          onProgress: (p) => {
            progress(p);
            if (p.phase === 'done') done = { bytes: p.bytesDone, seconds: p.elapsedSeconds };
          },
        });
        await backend.synchronize();
        freeModelWeights(backend, loaded);
        await backend.synchronize();
        times.push(done.seconds);
        bytes = done.bytes;
      }
      const best = Math.min(...times);
      const rate = bytes / best;
      const floorRate = read && h2d ? Math.min(read.bytes / read.seconds, h2d.bytes / h2d.seconds) : null;
      console.log(`load: ${(bytes / GB).toFixed(2)} GB in ${best.toFixed(2)} s = ${(rate / GB).toFixed(2)} GB/s` + (floorRate ? ` (floor ${(bytes / floorRate).toFixed(2)} s at ${(floorRate / GB).toFixed(2)} GB/s: ${((100 * rate) / floorRate).toFixed(0)}% of it)` : ''));
      if (v['output-json']) {
        const json = {
          command: `tramontane bench load ${args.join(' ')}`, date: new Date().toISOString(),
          model: source.origin, layout: weights.config.format, dtype: weights.config.dtype, files: paths.length,
          backend: backend.name, device: about.device, readers, chunk_bytes: chunkBytes, uv_threadpool_size: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
          num_iters: iters, load_seconds: times, load_seconds_best: best, weight_bytes: bytes, load_gb_per_s: rate / GB,
          file_read: read && { bytes: read.bytes, seconds: read.seconds, gb_per_s: read.bytes / read.seconds / GB },
          host_to_device: h2d && { bytes: h2d.bytes, seconds: h2d.seconds, gb_per_s: h2d.bytes / h2d.seconds / GB },
          floor_gb_per_s: floorRate && floorRate / GB, floor_seconds: floorRate && bytes / floorRate,
          fraction_of_floor: floorRate && rate / floorRate,
        };
        writeFileSync(v['output-json'], JSON.stringify(json, null, 2) + '\n');
      }
      return 0;
    } finally {
      await backend.close();
    }
  } finally {
    await weights.close();
  }
}
