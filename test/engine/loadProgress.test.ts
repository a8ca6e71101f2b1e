// LLM.create's onProgress: the weight load reports start, progress and done, from the calling
// thread and across the runner thread alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LLM } from '../../src/engine/llm.js';
import type { LoadProgress } from '../../src/model/loadProgress.js';
import { fixture } from '../helpers/paths.js';

for (const runnerThread of [false, true]) {
  test(`LLM.create({ onProgress }) reports the load (runner thread ${runnerThread ? 'on' : 'off'})`, async () => {
    const events: LoadProgress[] = [];
    const llm = await LLM.create({ model: fixture('models', 'tiny-a', 'mistral'), device: 'cpu', threads: 1, runnerThread, maxModelLen: 64, onProgress: (p) => events.push(p) });
    try {
      assert.equal(events[0].phase, 'start');
      const done = events.at(-1)!;
      assert.equal(done.phase, 'done');
      assert.equal(done.bytesDone, done.bytesTotal);
      assert.equal(done.bytesTotal, 487200);
      assert.equal(done.tensorsDone, done.tensorsTotal);
      assert.ok(events.filter((e) => e.phase === 'progress').length >= 1);
    } finally {
      await llm.close();
    }
  });
}
