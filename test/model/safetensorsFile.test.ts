import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile } from '../../src/model/safetensorsFile.js';
import { CheckpointError } from '../../src/model/checkpointError.js';
import { f32Bytes, safetensorsBytes, tempDir, writeSafetensors } from '../helpers/safetensors.js';

function bf16Bytes(values: readonly number[]): Uint8Array {
  const f = new Float32Array(values);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < u.length; i++) out[i] = u[i] >>> 16; // values chosen bf16-exact
  return new Uint8Array(out.buffer);
}

test('reads BF16, F16 and F32 tensors with their shapes and exact bytes', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = f32Bytes([1, -2, 3.5, 4, 5, 6]);
    const b = bf16Bytes([1, -0.5, 2, 256]);
    const c = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x7bff]).buffer); // f16 1, -2, 65504
    const path = join(dir, 'x.safetensors');
    await writeSafetensors(path, [
      { name: 'a', dtype: 'F32', shape: [2, 3], data: a },
      { name: 'b', dtype: 'BF16', shape: [4], data: b },
      { name: 'c', dtype: 'F16', shape: [3, 1], data: c },
    ]);
    const f = await SafetensorsFile.open(path);
    assert.deepEqual(f.names().sort(), ['a', 'b', 'c']);
    assert.equal(f.metadata.format, 'pt');
    const ra = await f.read('a');
    assert.equal(ra.dtype, 'f32');
    assert.deepEqual(ra.shape, [2, 3]);
    assert.deepEqual([...new Float32Array(ra.data.buffer, ra.data.byteOffset, 6)], [1, -2, 3.5, 4, 5, 6]);
    const rb = await f.read('b');
    assert.equal(rb.dtype, 'bf16');
    assert.deepEqual(Buffer.from(rb.data), Buffer.from(b));
    const rc = await f.read('c');
    assert.equal(rc.dtype, 'f16');
    assert.deepEqual(rc.shape, [3, 1]);
    assert.deepEqual(Buffer.from(rc.data), Buffer.from(c));
    assert.equal(ra.data.byteOffset, 0, 'each tensor gets its own aligned buffer');
    await f.close();
  } finally {
    await cleanup();
  }
});

test('reads lazily: opening reads only the header, a read only its own tensor', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const big = new Uint8Array(4 << 20).fill(7);
    const small = f32Bytes([9, 8, 7]);
    const path = join(dir, 'lazy.safetensors');
    const bytes = safetensorsBytes([
      { name: 'big', dtype: 'U8', shape: [big.length], data: big },
      { name: 'small', dtype: 'F32', shape: [3], data: small },
    ]);
    await writeFile(path, bytes);
    const headerBytes = 8 + Number(bytes.readBigUInt64LE(0));
    const f = await SafetensorsFile.open(path);
    assert.equal(f.bytesRead, headerBytes);
    const r = await f.read('small');
    assert.equal(f.bytesRead, headerBytes + 12);
    assert.deepEqual([...new Float32Array(r.data.buffer)], [9, 8, 7]);
    await f.close();
  } finally {
    await cleanup();
  }
});

test('reads a tensor that lies past 4 GiB in a sparse 5 GiB file without touching the rest', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'sparse.safetensors');
    const hugeLen = 5 * 2 ** 30; // 5 GiB of zeros, never written (a hole)
    const tail = f32Bytes([1.5, -2.5]);
    const header = {
      huge: { dtype: 'BF16', shape: [hugeLen / 2], data_offsets: [0, hugeLen] },
      tail: { dtype: 'F32', shape: [2], data_offsets: [hugeLen, hugeLen + 8] },
    };
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    await writeFile(path, Buffer.concat([len, Buffer.from(json)]));
    const dataStart = 8 + json.length;
    await truncate(path, dataStart + hugeLen + 8);
    const fh = await open(path, 'r+');
    await fh.write(Buffer.from(tail), 0, 8, dataStart + hugeLen);
    await fh.close();

    const f = await SafetensorsFile.open(path);
    assert.equal(f.entry('tail').offset, dataStart + hugeLen);
    const r = await f.read('tail');
    assert.deepEqual([...new Float32Array(r.data.buffer)], [1.5, -2.5]);
    assert.equal(f.bytesRead, dataStart + 8);
    await f.close();
  } finally {
    await cleanup();
  }
});

test('a truncated file names the tensor and the file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'cut.safetensors');
    const bytes = safetensorsBytes([
      { name: 'first', dtype: 'F32', shape: [4], data: f32Bytes([1, 2, 3, 4]) },
      { name: 'layers.3.attention.wq.weight', dtype: 'F32', shape: [4], data: f32Bytes([5, 6, 7, 8]) },
    ]);
    await writeFile(path, bytes.subarray(0, bytes.length - 5));
    await assert.rejects(SafetensorsFile.open(path), (e: Error) => {
      assert.ok(e instanceof CheckpointError);
      assert.match(e.message, /truncated/);
      assert.match(e.message, /layers\.3\.attention\.wq\.weight/);
      assert.ok(e.message.includes(path));
      return true;
    });
    // a file cut inside its header
    await writeFile(path, bytes.subarray(0, 20));
    await assert.rejects(SafetensorsFile.open(path), /bad safetensors header.*truncated file\?/);
  } finally {
    await cleanup();
  }
});

test('bad headers are rejected with the file and the reason', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'bad.safetensors');
    const withHeader = async (json: string, extra = 0) => {
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
      await writeFile(path, Buffer.concat([len, Buffer.from(json), Buffer.alloc(extra)]));
    };
    await writeFile(path, Buffer.from([1, 2, 3]));
    await assert.rejects(SafetensorsFile.open(path), /not a safetensors file/);
    await withHeader('{not json');
    await assert.rejects(SafetensorsFile.open(path), /bad safetensors header: not valid JSON/);
    await withHeader('[1,2]');
    await assert.rejects(SafetensorsFile.open(path), /expected a JSON object/);
    await withHeader(JSON.stringify({ w: { dtype: 'Q4', shape: [2], data_offsets: [0, 2] } }), 2);
    await assert.rejects(SafetensorsFile.open(path), /tensor w: unknown dtype "Q4"/);
    await withHeader(JSON.stringify({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }), 8);
    await assert.rejects(SafetensorsFile.open(path), /tensor w: data_offsets span 4 bytes but F32 \[2\] needs 8/);
    await withHeader(JSON.stringify({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), 8);
    await assert.rejects(SafetensorsFile.open(path), /tensor w: bad shape/);
    await withHeader(JSON.stringify({ w: { dtype: 'F32', shape: [1] } }), 8);
    await assert.rejects(SafetensorsFile.open(path), /tensor w: bad data_offsets/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(2n ** 40n);
    await writeFile(path, huge);
    await assert.rejects(SafetensorsFile.open(path), /claims 1099511627776 bytes/);
    await assert.rejects(SafetensorsFile.open(join(dir, 'absent.safetensors')), /cannot open safetensors file .*absent\.safetensors/);
  } finally {
    await cleanup();
  }
});

test('F8_E4M3 is read as FP8 bytes; F8_E5M2 and other dtypes are refused by name', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const path = join(dir, 'fp8.safetensors');
    await writeSafetensors(path, [
      { name: 'q', dtype: 'F8_E4M3', shape: [4], data: new Uint8Array(4) },
      { name: 'i', dtype: 'I32', shape: [1], data: new Uint8Array(4) },
      { name: 'e5', dtype: 'F8_E5M2', shape: [2], data: new Uint8Array(2) },
    ]);
    const f = await SafetensorsFile.open(path);
    assert.equal(f.entry('q').dtype, 'F8_E4M3');
    const q = await f.read('q');
    assert.equal(q.dtype, 'f8_e4m3');
    assert.equal(q.data.byteLength, 4);
    await assert.rejects(f.read('e5'), /tensor e5 in .*fp8\.safetensors is F8_E5M2: only F8_E4M3 FP8 weights are supported/);
    await assert.rejects(f.read('i'), /tensor i in .* has dtype I32: only BF16, F16 and F32/);
    await assert.rejects(f.read('nope'), /tensor nope is not in .*fp8\.safetensors/);
    await f.close();
  } finally {
    await cleanup();
  }
});
