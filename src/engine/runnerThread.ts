// A model runner in a worker thread, so a backend whose ops block the calling thread (the CPU)
// leaves the event loop free: HTTP, tokenisation and detokenisation run while a step computes.
// Each execute() posts the batch (structured clone) and resolves with the worker's StepOutput.
import { Worker } from 'node:worker_threads';
import type { ForwardBatch } from '../model/forwardBatch.js';
import type { KvCacheGeometry, ModelRunner, RunnerLimits } from '../model/runner.js';
import type { BatchSampling, PromptLogprobsRequest, StepOutput } from '../model/sampling.js';
import type { LoadProgress, LoadProgressListener } from '../model/loadProgress.js';
import type { RunnerSpec } from './composition.js';

/** Messages from the worker. */
export type RunnerThreadReply =
  | { readonly type: 'ready'; readonly kvCache: KvCacheGeometry; readonly limits: RunnerLimits }
  | { readonly type: 'progress'; readonly progress: LoadProgress }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly output: StepOutput }
  | { readonly type: 'error'; readonly id: number; readonly message: string }
  | { readonly type: 'closed'; readonly id: number };

/** Messages to the worker. */
export type RunnerThreadRequest =
  | { readonly type: 'execute'; readonly id: number; readonly batch: ForwardBatch; readonly sampling: BatchSampling; readonly promptLogprobs?: readonly (PromptLogprobsRequest | null)[] }
  | { readonly type: 'close'; readonly id: number };

export async function startRunnerThread(spec: RunnerSpec, onProgress?: LoadProgressListener): Promise<ModelRunner> {
  const worker = new Worker(new URL('./runnerThreadWorker.js', import.meta.url), { workerData: { spec, progress: onProgress !== undefined } });
  const pending = new Map<number, { resolve: (v: StepOutput | null) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let dead: Error | null = null;
  const failAll = (e: Error) => {
    dead ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  const ready = new Promise<{ kvCache: KvCacheGeometry; limits: RunnerLimits }>((resolve, reject) => {
    worker.on('message', (msg: RunnerThreadReply) => {
      if (msg.type === 'ready') resolve(msg);
      else if (msg.type === 'progress') onProgress?.(msg.progress);
      else if (msg.type === 'failed') reject(new Error(msg.message));
      else {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.type === 'result') p.resolve(msg.output);
        else if (msg.type === 'closed') p.resolve(null);
        else p.reject(new Error(msg.message));
      }
    });
    worker.on('error', (e) => {
      reject(e);
      failAll(e);
    });
    worker.on('exit', (code) => {
      const e = new Error(`the model runner thread exited (code ${code})`);
      reject(e);
      failAll(e);
    });
  });
  let geometry;
  try {
    geometry = await ready;
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const call = (msg: RunnerThreadRequest): Promise<StepOutput | null> =>
    new Promise((resolve, reject) => {
      if (dead) return reject(dead);
      pending.set(msg.id, { resolve, reject });
      worker.postMessage(msg);
    });
  let closed = false;
  return {
    kvCache: geometry.kvCache,
    limits: geometry.limits,
    async execute(batch, sampling, promptLogprobs) {
      if (closed) throw new Error('runner is closed');
      const out = await call({ type: 'execute', id: nextId++, batch, sampling, promptLogprobs });
      return out as StepOutput;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await call({ type: 'close', id: nextId++ });
      } finally {
        await worker.terminate();
      }
    },
  };
}
