// Worker thread of resizePool.ts: resizes and normalises a band of destination rows into a
// shared output buffer.
import { parentPort } from 'node:worker_threads';
import { resizeNormalizeRows, type ResizeJob } from './normalize.js';

export interface WorkerRequest {
  id: number;
  job: Omit<ResizeJob, 'src'> & { src: SharedArrayBuffer };
  out: SharedArrayBuffer;
  rowStart: number;
  rowEnd: number;
  srcByteOffset: number;
  /** Bytes of `job.src` in use: the band's source rows, from job.srcRowOffset on. */
  srcBytes: number;
}

parentPort?.on('message', (req: WorkerRequest) => {
  try {
    const { dstWidth, dstHeight } = req.job;
    const job: ResizeJob = { ...req.job, src: new Uint8Array(req.job.src, req.srcByteOffset, req.srcBytes) };
    resizeNormalizeRows(job, new Float32Array(req.out, 0, 3 * dstWidth * dstHeight), req.rowStart, req.rowEnd);
    parentPort?.postMessage({ id: req.id });
  } catch (err) {
    parentPort?.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) });
  }
});
