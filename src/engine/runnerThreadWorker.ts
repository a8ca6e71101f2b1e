// The worker side of runnerThread.ts: builds the runner from the spec, then serves execute and
// close requests one at a time.
import { parentPort, workerData } from 'node:worker_threads';
import type { ModelRunner } from '../model/runner.js';
import type { RunnerSpec } from './composition.js';
import { openLocalRunner } from './localRunner.js';
import type { RunnerThreadReply, RunnerThreadRequest } from './runnerThread.js';

const port = parentPort;
if (!port) throw new Error('runnerThreadWorker must run in a worker thread');
const post = (msg: RunnerThreadReply): void => port.postMessage(msg);

let runner: ModelRunner | null = null;
try {
  const data = workerData as { spec: RunnerSpec; progress: boolean };
  runner = await openLocalRunner(data.spec, data.progress ? (progress) => post({ type: 'progress', progress }) : undefined);
  post({ type: 'ready', kvCache: { ...runner.kvCache }, limits: { ...runner.limits } });
} catch (err) {
  post({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
}

port.on('message', async (msg: RunnerThreadRequest) => {
  if (!runner) return;
  if (msg.type === 'execute') {
    try {
      const output = await runner.execute(msg.batch, msg.sampling, msg.promptLogprobs);
      post({ type: 'result', id: msg.id, output });
    } catch (err) {
      post({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
    }
  } else if (msg.type === 'close') {
    await runner.close();
    post({ type: 'closed', id: msg.id });
    port.close();
  }
});
