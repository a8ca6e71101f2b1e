// The streaming loader (parallelLoader.ts) run one decoder layer at a time, for online
// quantization: each group's dense weights are allocated and streamed only when the first of
// them is asked for, so a bf16 checkpoint quantized as it loads holds one layer in bf16 beside
// the FP8 weights placed so far, not the whole model in bf16. Progress is reported as one load
// (one 'start', one 'done', bytes and tensors counted over every group).
import type { Backend, DeviceTensor } from '../backend/backend.js';
import type { LoadProgressListener } from './loadProgress.js';
import { loadWeightsParallel, type ParallelLoadOptions } from './parallelLoader.js';
import type { LocatedWeightSource } from './tensorLocation.js';
import type { PlannedWeight } from './weightPlan.js';

/** 'layers.N.' for a text decoder layer's weights, '' for everything else (one group). */
function groupOf(key: string): string {
  return /^layers\.\d+\./.exec(key)?.[0] ?? '';
}

export class GroupedStreaming {
  private readonly groups = new Map<string, PlannedWeight[]>();
  private readonly ready = new Map<string, DeviceTensor>();
  private readonly loaded = new Set<string>();
  private readonly bytesTotal: number;
  private readonly tensorsTotal: number;
  private bytesBefore = 0;
  private tensorsBefore = 0;
  private start = 0;

  constructor(
    private readonly source: LocatedWeightSource,
    private readonly backend: Backend,
    plan: readonly PlannedWeight[],
    private readonly options: ParallelLoadOptions & { readonly onProgress?: LoadProgressListener },
  ) {
    for (const w of plan) {
      const g = groupOf(w.key);
      if (!this.groups.has(g)) this.groups.set(g, []);
      this.groups.get(g)!.push(w);
    }
    const parts = plan.flatMap((w) => w.parts);
    this.bytesTotal = parts.reduce((a, p) => a + source.locate(p).byteLength, 0);
    this.tensorsTotal = parts.length;
  }

  private emit(phase: 'start' | 'progress' | 'done', bytesDone: number, tensorsDone: number): void {
    this.options.onProgress?.({ phase, bytesDone, bytesTotal: this.bytesTotal, tensorsDone, tensorsTotal: this.tensorsTotal, elapsedSeconds: (performance.now() - this.start) / 1000 });
  }

  /** The streamed tensor of planned weight `key` (its group is streamed first if need be). */
  async take(key: string): Promise<DeviceTensor> {
    const g = groupOf(key);
    if (!this.loaded.has(g)) {
      const plan = this.groups.get(g);
      if (!plan) throw new Error(`weight ${key} was not in the load plan`);
      if (this.loaded.size === 0) {
        this.start = performance.now();
        this.emit('start', 0, 0);
      }
      this.loaded.add(g);
      const res = await loadWeightsParallel(this.source, this.backend, plan, {
        ...this.options,
        onProgress: (p) => {
          if (p.phase === 'progress') this.emit('progress', this.bytesBefore + p.bytesDone, this.tensorsBefore + p.tensorsDone);
        },
      });
      this.bytesBefore += res.bytes;
      this.tensorsBefore += plan.reduce((a, w) => a + w.parts.length, 0);
      for (const [k, t] of res.tensors) this.ready.set(k, t);
    }
    const t = this.ready.get(key);
    if (!t) throw new Error(`weight ${key} was not streamed`);
    this.ready.delete(key);
    return t;
  }

  /** Checks every group was streamed and used, and reports the end of the load. */
  finish(): void {
    const unused = [...this.ready.keys(), ...[...this.groups.keys()].filter((g) => !this.loaded.has(g)).map((g) => `${g || 'non-layer'} weights`)];
    if (unused.length > 0) throw new Error(`weights ${unused.join(', ')} were loaded but not used`);
    this.emit('done', this.bytesBefore, this.tensorsBefore);
  }

  /** Frees the tensors streamed but not taken. */
  release(): void {
    for (const t of this.ready.values()) this.backend.free(t);
    this.ready.clear();
  }
}
