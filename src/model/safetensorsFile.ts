// A safetensors file read for large checkpoints: the header is parsed once from a small read at
// open, and each tensor is read on demand from its byte offset through a file handle, so a
// 48 GB file never sits in memory. Format: u64 LE header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}, then the data area;
// offsets are relative to the data area.
import { open, type FileHandle } from 'node:fs/promises';
import { CheckpointError } from './checkpointError.js';
import type { WeightDType } from './config.js';

/** Dtype names as safetensors writes them, with their element size in bytes. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BF16: 2, F16: 2, F32: 4, F64: 8, F8_E4M3: 1, F8_E5M2: 1,
  I8: 1, U8: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8, BOOL: 1,
};
const READABLE: Readonly<Record<string, WeightDType>> = { BF16: 'bf16', F16: 'f16', F32: 'f32', F8_E4M3: 'f8_e4m3' };

/** The WeightDType of a safetensors dtype string, or a CheckpointError naming the tensor and file
 *  (F8_E5M2 and every other format this engine cannot compute with). Whether an F8_E4M3 tensor
 *  belongs where it is, the checkpoint's quantization config decides (checkpoint.ts). */
export function readableDType(dtype: string, tensor: string, path: string): WeightDType {
  const readable = READABLE[dtype];
  if (readable) return readable;
  if (dtype === 'F8_E5M2') throw new CheckpointError(`tensor ${tensor} in ${path} is F8_E5M2: only F8_E4M3 FP8 weights are supported (E5M2 has too few mantissa bits for weights)`);
  throw new CheckpointError(`tensor ${tensor} in ${path} has dtype ${dtype}: only BF16, F16 and F32 weights are supported (and F8_E4M3 for FP8 linear layers)`);
}

/** Largest header we accept (safetensors itself caps it at 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
/** One fs read moves at most this many bytes (a single read is capped near 2 GiB). */
const READ_CHUNK_BYTES = 1 << 30;

export interface SafetensorsEntry {
  readonly name: string;
  /** The dtype string of the file (BF16, F16, F32, F8_E4M3, ...). */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte offset in the file, and length in bytes. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface RawTensor {
  readonly dtype: WeightDType;
  readonly shape: readonly number[];
  /** A fresh buffer (byteOffset 0) holding exactly this tensor's bytes. */
  readonly data: Uint8Array;
}

/** A .safetensors file read lazily: the header at open, each tensor's bytes when asked. */
export class SafetensorsFile {
  /** Bytes read from the file so far, header included (lets tests prove reads are lazy). */
  bytesRead = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly fileSize: number,
    private readonly entries: ReadonlyMap<string, SafetensorsEntry>,
    readonly metadata: Readonly<Record<string, string>>,
    headerBytes: number,
  ) {
    this.bytesRead = headerBytes;
  }

  /** Opens the file and parses its header; throws a CheckpointError naming the file when the
   *  header is malformed or a tensor lies past the end of the file (a truncated download). */
  static async open(path: string): Promise<SafetensorsFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      throw new CheckpointError(`cannot open safetensors file ${path}: ${(e as Error).message}`);
    }
    try {
      const fileSize = (await handle.stat()).size;
      if (fileSize < 8) throw new CheckpointError(`${path}: not a safetensors file (${fileSize} bytes, shorter than its 8-byte header length)`);
      const lenBuf = Buffer.alloc(8);
      await readFully(handle, lenBuf, 0, path, 'the header length');
      const headerLen = lenBuf.readBigUInt64LE(0);
      if (headerLen > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
        throw new CheckpointError(
          `${path}: bad safetensors header: it claims ${headerLen} bytes but the file has ${fileSize - 8} after the length field` +
            (headerLen > BigInt(MAX_HEADER_BYTES) ? ` (limit ${MAX_HEADER_BYTES})` : ' (truncated file?)'),
        );
      }
      const headerBuf = Buffer.alloc(Number(headerLen));
      await readFully(handle, headerBuf, 8, path, 'the header');
      const dataStart = 8 + Number(headerLen);
      const { entries, metadata } = parseHeader(headerBuf, path, dataStart, fileSize);
      return new SafetensorsFile(path, handle, fileSize, entries, metadata, 8 + headerBuf.length);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  /** Every tensor name in the header. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** Whether the file holds a tensor of this name. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** A tensor's dtype, shape and byte range; throws naming the tensor when it is absent. */
  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new CheckpointError(`tensor ${name} is not in ${this.path}`);
    return e;
  }

  /** Reads one tensor's bytes from its offset. */
  async read(name: string): Promise<RawTensor> {
    const e = this.entry(name);
    const dtype = readableDType(e.dtype, name, this.path);
    const data = new Uint8Array(e.byteLength);
    await readFully(this.handle, data, e.offset, this.path, `tensor ${name}`);
    this.bytesRead += e.byteLength;
    return { dtype, shape: e.shape, data };
  }

  /** Closes the file. */
  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Reads exactly buf.length bytes at `position`, in chunks; a short read means the file ended. */
async function readFully(handle: FileHandle, buf: Uint8Array, position: number, path: string, what: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const len = Math.min(READ_CHUNK_BYTES, buf.length - done);
    const { bytesRead } = await handle.read(buf, done, len, position + done);
    if (bytesRead === 0) {
      throw new CheckpointError(`${path} is truncated: ${what} needs bytes ${position}..${position + buf.length} but the file ends at ${position + done}`);
    }
    done += bytesRead;
  }
}

function parseHeader(
  buf: Buffer,
  path: string,
  dataStart: number,
  fileSize: number,
): { entries: Map<string, SafetensorsEntry>; metadata: Record<string, string> } {
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new CheckpointError(`${path}: bad safetensors header: not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(`${path}: bad safetensors header: expected a JSON object`);
  }
  const entries = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  const dataSize = fileSize - dataStart;
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const bad = (why: string) => new CheckpointError(`${path}: bad safetensors header entry for tensor ${name}: ${why}`);
    if (typeof raw !== 'object' || raw === null) throw bad('not an object');
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw bad(`unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
      throw bad(`bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const byteLength = (shape as number[]).reduce((a, d) => a * d, 1) * DTYPE_BYTES[dtype];
    if (offsets[1] - offsets[0] !== byteLength) {
      throw bad(`data_offsets span ${offsets[1] - offsets[0]} bytes but ${dtype} [${shape.join(', ')}] needs ${byteLength}`);
    }
    if (offsets[1] > dataSize) {
      throw new CheckpointError(
        `${path} is truncated: tensor ${name} needs data bytes up to ${offsets[1]} but the file holds ${Math.max(0, dataSize)} after its header`,
      );
    }
    entries.set(name, { name, dtype, shape: shape as number[], offset: dataStart + offsets[0], byteLength });
  }
  return { entries, metadata };
}
