// Writes safetensors files for tests (synthetic checkpoints, broken files).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: string; // safetensors spelling: BF16, F16, F32, F8_E4M3, ...
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** The bytes of a safetensors file holding `tensors` in order (header padded to 8 bytes). */
export function safetensorsBytes(tensors: readonly TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);
}

export async function writeSafetensors(path: string, tensors: readonly TensorToWrite[]): Promise<void> {
  await writeFile(path, safetensorsBytes(tensors));
}

export function f32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'tramontane-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
