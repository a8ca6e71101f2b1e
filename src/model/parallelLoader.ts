// Checkpoint weights onto a backend at the machine's speed (issue 12): every device tensor is
// allocated up front (src/model/weightPlan.ts), then the tensors' bytes are cut into chunks of
// whole rows (whole heads for RoPE-permuted ones) and read with several positional reads in
// flight, each into a staging buffer of the backend's WeightSink (page-locked on CUDA); a
// filled buffer is copied to its place in the fused device tensor (asynchronously on CUDA,
// overlapping the next reads) and reused once the copy has left it. Fusions (wq|wk|wv,
// w1|w3) are row offsets in the destination; the Mistral layout's q/k RoPE permutation is a
// vectored read (preadv) that scatters the file's rows straight into canonical order in the
// staging buffer. No host copy of a tensor is ever built: host memory is readers x chunkBytes.
import { open, type FileHandle } from 'node:fs/promises';
import type { Backend, DeviceTensor } from '../backend/backend.js';
import type { WeightSink } from '../backend/backend.js';
import { CheckpointError } from './checkpointError.js';
import type { WeightDType } from './config.js';
import type { LoadProgressListener } from './loadProgress.js';
import type { LocatedWeightSource, TensorLocation } from './tensorLocation.js';
import type { PlannedWeight } from './weightPlan.js';

export const DEFAULT_CHUNK_BYTES = 32 << 20;
export const DEFAULT_READERS = 8;
/** Linux's IOV_MAX: buffers per preadv. */
const MAX_IOVECS = 1024;

export interface ParallelLoadOptions {
  /** Bytes per staging buffer (default 32 MiB); a chunk is at most this. */
  readonly chunkBytes?: number;
  /** Staging buffers, i.e. reads or copies in flight (default 8). */
  readonly readers?: number;
  readonly onProgress?: LoadProgressListener;
}

export interface ParallelLoadResult {
  /** Device tensors by PlannedWeight.key. */
  readonly tensors: Map<string, DeviceTensor>;
  readonly bytes: number;
  readonly seconds: number;
}

interface Chunk {
  readonly tensor: { remaining: number };
  readonly path: string;
  readonly fileOffset: number;
  readonly byteLength: number;
  readonly rowBytes: number;
  readonly dst: DeviceTensor;
  readonly dstElement: number;
  readonly dtype: WeightDType;
  /** Rows per head when the rows must be moved from interleaved to rotate-half order. */
  readonly headRows: number | null;
}

const numel = (shape: readonly number[]) => shape.reduce((a, d) => a * d, 1);

/** Chunks of one located tensor whose rows start at `rowBase` of `dst`. */
function chunksOf(loc: TensorLocation, name: string, dst: DeviceTensor, rowBase: number, chunkBytes: number): Chunk[] {
  const rows = loc.shape.length === 0 ? 1 : loc.shape[0];
  const rowElems = loc.shape.length === 0 ? 1 : numel(loc.shape.slice(1));
  const rowBytes = rows === 0 ? 0 : loc.byteLength / rows;
  const headRows = loc.ropeHeads === null ? null : rows / loc.ropeHeads;
  if (headRows !== null && (!Number.isInteger(headRows) || headRows % 2 !== 0)) {
    throw new CheckpointError(`tensor ${name} in ${loc.path}: ${rows} rows do not split into ${loc.ropeHeads} heads of an even width`);
  }
  const unit = headRows ?? 1; // rows that must stay in one chunk
  const perChunk = Math.floor(chunkBytes / (rowBytes * unit)) * unit;
  if (rows > 0 && perChunk === 0) throw new Error(`tensor ${name}: ${unit} row(s) of ${rowBytes} bytes exceed the ${chunkBytes}-byte staging buffer`);
  const tensor = { remaining: 0 };
  const out: Chunk[] = [];
  for (let r = 0; r < rows; r += perChunk) {
    const n = Math.min(perChunk, rows - r);
    out.push({
      tensor,
      path: loc.path,
      fileOffset: loc.offset + r * rowBytes,
      byteLength: n * rowBytes,
      rowBytes,
      dst,
      dstElement: (rowBase + r) * rowElems,
      dtype: loc.dtype,
      headRows,
    });
  }
  if (out.length === 0) out.push({ tensor, path: loc.path, fileOffset: loc.offset, byteLength: 0, rowBytes, dst, dstElement: rowBase * rowElems, dtype: loc.dtype, headRows: null });
  tensor.remaining = out.length;
  return out;
}

/** Allocates each planned weight and cuts its parts into chunks (reading nothing). */
function planChunks(source: LocatedWeightSource, sink: WeightSink, plan: readonly PlannedWeight[], chunkBytes: number, allocated: DeviceTensor[]) {
  const tensors = new Map<string, DeviceTensor>();
  const chunks: Chunk[] = [];
  let bytes = 0;
  let count = 0;
  for (const w of plan) {
    const locs = w.parts.map((p) => source.locate(p));
    const first = locs[0];
    const cols = first.shape.slice(1).join();
    for (const [i, l] of locs.entries()) {
      if (l.dtype !== first.dtype) throw new CheckpointError(`tensor ${w.parts[i]} in ${l.path} is ${l.dtype} but ${w.parts[0]} is ${first.dtype}: they are fused into ${w.key} and must share a dtype`);
      if (l.shape.slice(1).join() !== cols) throw new CheckpointError(`tensor ${w.parts[i]} in ${l.path} [${l.shape.join(', ')}] cannot stack with ${w.parts[0]} [${first.shape.join(', ')}] into ${w.key}`);
    }
    const rows = locs.reduce((a, l) => a + (l.shape.length === 0 ? 1 : l.shape[0]), 0);
    const stacked = locs.length === 1 ? first.shape : [rows, ...first.shape.slice(1)];
    const shape = w.shape ?? stacked;
    if (numel(shape) !== numel(stacked)) throw new Error(`weight ${w.key}: cannot view [${stacked.join(', ')}] as [${shape.join(', ')}]`);
    const dst = sink.allocWeight(shape, first.dtype);
    allocated.push(dst);
    tensors.set(w.key, dst);
    let rowBase = 0;
    locs.forEach((l, i) => {
      chunks.push(...chunksOf(l, w.parts[i], dst, rowBase, chunkBytes));
      rowBase += l.shape.length === 0 ? 1 : l.shape[0];
      bytes += l.byteLength;
      count++;
    });
  }
  // File order: each reader's next chunk follows the previous ones on disk.
  chunks.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.fileOffset - b.fileOffset));
  return { tensors, chunks, bytes, count };
}

export async function loadWeightsParallel(
  source: LocatedWeightSource,
  backend: Backend,
  plan: readonly PlannedWeight[],
  o: ParallelLoadOptions = {},
): Promise<ParallelLoadResult> {
  if (!backend.createWeightSink) throw new Error(`the ${backend.name} backend cannot stream weights`);
  const chunkBytes = o.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const readers = o.readers ?? DEFAULT_READERS;
  if (!(Number.isSafeInteger(chunkBytes) && chunkBytes > 0 && Number.isSafeInteger(readers) && readers > 0)) {
    throw new Error(`parallel load: chunkBytes and readers must be positive integers (got ${chunkBytes}, ${readers})`);
  }
  const sink = backend.createWeightSink();
  const allocated: DeviceTensor[] = [];
  const handles = new Map<string, FileHandle>();
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  try {
    const { tensors, chunks, bytes, count } = planChunks(source, sink, plan, chunkBytes, allocated);
    const largest = chunks.reduce((a, c) => Math.max(a, c.byteLength), 1);
    const buffers = sink.stagingBuffers(Math.min(readers, Math.max(1, chunks.length)), Math.min(chunkBytes, largest));
    for (const c of chunks) if (!handles.has(c.path)) handles.set(c.path, await openFile(c.path));
    let bytesDone = 0;
    let tensorsDone = 0;
    const report = (phase: 'start' | 'progress' | 'done') =>
      o.onProgress?.({ phase, bytesDone, bytesTotal: bytes, tensorsDone, tensorsTotal: count, elapsedSeconds: elapsed() });
    report('start');
    let next = 0;
    let failure: { error: unknown } | null = null;
    const reader = async (buf: Uint8Array): Promise<void> => {
      while (failure === null && next < chunks.length) {
        const c = chunks[next++];
        const data = buf.subarray(0, c.byteLength);
        await readChunk(handles.get(c.path)!, c, data);
        await sink.write(c.dst, c.dstElement, data, c.dtype);
        bytesDone += c.byteLength;
        if (--c.tensor.remaining === 0) tensorsDone++;
        report('progress');
      }
    };
    await Promise.all(buffers.map((b) => reader(b).catch((error: unknown) => void (failure ??= { error }))));
    if (failure !== null) throw (failure as { error: unknown }).error;
    await sink.finish();
    const seconds = elapsed();
    report('done');
    return { tensors, bytes, seconds };
  } catch (err) {
    for (const t of allocated) backend.free(t);
    throw err;
  } finally {
    sink.close();
    await Promise.all([...handles.values()].map((h) => h.close()));
  }
}

async function openFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    throw new CheckpointError(`cannot open ${path}: ${(e as Error).message}`);
  }
}

function truncated(path: string, at: number, end: number): CheckpointError {
  return new CheckpointError(`${path} is truncated: a tensor needs bytes up to ${end} but reading stopped at ${at}`);
}

/** Fills `data` with the chunk's bytes, rows in canonical order. */
async function readChunk(fh: FileHandle, c: Chunk, data: Uint8Array): Promise<void> {
  if (c.headRows === null) {
    let done = 0;
    while (done < data.byteLength) {
      const { bytesRead } = await fh.read(data, done, data.byteLength - done, c.fileOffset + done);
      if (bytesRead === 0) throw truncated(c.path, c.fileOffset + done, c.fileOffset + data.byteLength);
      done += bytesRead;
    }
    return;
  }
  // Mistral interleaved rows -> rotate-half (src/model/ropePermute.ts): within each head of
  // hd rows, file row 2i + s lands at row s*hd/2 + i. The file range is read once, in order,
  // scattered over row-sized slots of `data`.
  const hd = c.headRows;
  const half = hd / 2;
  const rows = c.byteLength / c.rowBytes;
  const slots: Uint8Array[] = [];
  for (let r = 0; r < rows; r++) {
    const h = Math.floor(r / hd);
    const j = r - h * hd;
    const dstRow = h * hd + (j & 1) * half + (j >> 1);
    slots.push(data.subarray(dstRow * c.rowBytes, (dstRow + 1) * c.rowBytes));
  }
  for (let s = 0; s < slots.length; s += MAX_IOVECS) {
    const group = slots.slice(s, s + MAX_IOVECS);
    await readvFully(fh, group, c.fileOffset + s * c.rowBytes, c.path);
  }
}

async function readvFully(fh: FileHandle, bufs: Uint8Array[], position: number, path: string): Promise<void> {
  let pending = bufs;
  let pos = position;
  const end = position + bufs.reduce((a, b) => a + b.byteLength, 0);
  while (pending.length > 0) {
    const { bytesRead } = await fh.readv(pending, pos);
    if (bytesRead === 0) throw truncated(path, pos, end);
    pos += bytesRead;
    let left = bytesRead;
    let i = 0;
    while (i < pending.length && left >= pending[i].byteLength) left -= pending[i++].byteLength;
    pending = pending.slice(i);
    if (left > 0) pending[0] = pending[0].subarray(left);
  }
}
