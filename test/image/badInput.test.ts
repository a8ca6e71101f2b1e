// Every bad input is an ImageError that names the source and the reason; none crashes.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { ImageEncoder, ImageError } from '../../src/index.js';
import { fixture } from '../helpers/paths.js';
import { PNG_SIGNATURE_BYTES, pngChunk } from './pngChunks.js';

const encoder = new ImageEncoder({ patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2, fetchTimeoutMs: 500, maxFetchBytes: 4096 });
const input = (name: string): string => fixture('image', 'inputs', name);

async function rejects(source: Parameters<ImageEncoder['encode']>[0], label: string | RegExp, reason: RegExp, enc = encoder) {
  await assert.rejects(enc.encode(source), (err: unknown) => {
    assert.ok(err instanceof ImageError, `expected ImageError, got ${String(err)}`);
    if (typeof label === 'string') assert.ok(err.message.includes(label), `message '${err.message}' does not name ${label}`);
    else assert.match(err.message, label);
    assert.match(err.reason, reason);
    return true;
  });
}

/** A valid-looking RGB PNG header of any claimed size, with a tiny IDAT. */
function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([PNG_SIGNATURE_BYTES, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(Buffer.alloc(4))), pngChunk('IEND', new Uint8Array())]);
}

let server: Server;
let base = '';
before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok.png') res.end(readFileSync(input('one_pixel.png')));
    else if (req.url === '/big') res.end(Buffer.alloc(10_000, 1));
    else if (req.url === '/big-chunked') {
      res.writeHead(200, { 'content-type': 'image/png' }); // no content-length: streamed
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000, 1));
      res.end();
    } else if (req.url === '/slow') setTimeout(() => res.end('late'), 3000).unref();
    else {
      res.statusCode = 404;
      res.end('nope');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

test('a file that does not exist', () => rejects(input('nope.png'), 'nope.png', /no such file/));
test('a directory', () => rejects(fixture('image'), 'image', /directory/));
test('bytes that are not an image', () => rejects(input('not_an_image.png'), 'not_an_image.png', /not an image/));
test('empty bytes', () => rejects(new Uint8Array(), '<0 bytes>', /empty/));
test('a truncated PNG', () => rejects(input('truncated.png'), 'truncated.png', /cannot decode PNG: .*truncated/));
test('a truncated JPEG', () => rejects(input('truncated.jpg'), 'truncated.jpg', /cannot decode JPEG/));
test('an unsupported format', () => rejects(input('unsupported.bmp'), 'unsupported.bmp', /unsupported image format BMP/));
test('a PNG with a bad CRC', async () => {
  const bytes = new Uint8Array(readFileSync(input('gradient_rgb.png')));
  bytes[28] ^= 1; // the interlace byte of IHDR: only the CRC notices
  await rejects(bytes, /<\d+ bytes>/, /bad CRC in chunk IHDR/);
});
test('a 0-pixel image', () => rejects(new Uint8Array(pngClaiming(0, 10)), /bytes/, /0 pixels \(0x10\)/));
test('an image over the pixel limit (decompression bomb) fails before decoding', async () => {
  await rejects(new Uint8Array(pngClaiming(100_000, 100_000)), /bytes/, /10000000000 pixels, over the limit of 178956970/);
  const small = new ImageEncoder({ patchSize: 14, maxImageSize: 1540, spatialMergeSize: 2, maxPixels: 1000 });
  await rejects(input('baseline_420.jpg'), 'baseline_420.jpg', /203x157 = 31871 pixels, over the limit of 1000/, small);
  await rejects(input('lossy.webp'), 'lossy.webp', /over the limit of 1000/, small);
});
test('a data URI that is not base64 or not an image', async () => {
  await rejects('data:image/png;base64,@@@@', 'data:image/png;base64,', /not valid base64/);
  await rejects('data:text/plain;base64,aGVsbG8=', 'data:text/plain', /not image/);
  await rejects('data:image/png,rawdata', 'data:image/png,', /not base64-encoded/);
});
test('an unsupported URL scheme', () => rejects('ftp://127.0.0.1/x.png', 'ftp://127.0.0.1/x.png', /unsupported URL scheme 'ftp'/));
test('a URL that answers 404', () => rejects(`${base}/missing.png`, '/missing.png', /HTTP 404/));
test('a URL whose body is too large (declared and streamed)', async () => {
  await rejects(`${base}/big`, '/big', /10000 bytes is over the limit of 4096 bytes/);
  await rejects(`${base}/big-chunked`, '/big-chunked', /over the limit of 4096 bytes/);
});
test('a URL that times out', () => rejects(`${base}/slow`, '/slow', /timed out after 500 ms/));
test('a URL nobody listens on', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await rejects(`http://127.0.0.1:${port}/x.png`, `127.0.0.1:${port}`, /fetch failed \(ECONNREFUSED\)/);
});

test('every source kind gives the same encoding', async () => {
  const path = input('one_pixel.png');
  const bytes = new Uint8Array(readFileSync(path));
  const dataUri = `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
  const results = await Promise.all(
    [path, pathToFileURL(path).href, pathToFileURL(path), `${base}/ok.png`, dataUri, bytes, Buffer.from(bytes)].map((s) => encoder.encode(s)),
  );
  for (const r of results) {
    assert.deepEqual(r.tokens, [10, 13]);
    assert.equal(r.width, 28);
    assert.equal(r.height, 28);
    assert.deepEqual(r.pixels, results[0].pixels);
  }
});
