// Hand-built PNG files for the decoder's tests.
import { crc32 } from 'node:zlib';
import { PNG_SIGNATURE } from '../../src/image/png.js';

/** One PNG chunk: length, type, body, CRC of type + body. */
export function pngChunk(type: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

export const PNG_SIGNATURE_BYTES = Buffer.from(PNG_SIGNATURE);
