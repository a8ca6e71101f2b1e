// Collectives between simulated ranks in one process, each rank a CpuBackend (tests and
// tensor-parallel runs on CPUs). The ranks run as interleaved async functions; a collective
// completes when the last rank arrives: it reads every rank's tensor, combines them in rank
// order, writes the result to every rank's output and resolves all of them. A rank calling a
// different collective, or a different shape, than the others fails every rank's call.
import type { DeviceTensor } from '../backend.js';
import type { Collective } from '../collectives.js';
import { rowsCols } from '../tensorShape.js';
import { f32 } from './cpuTensor.js';

interface Arrival {
  readonly input: DeviceTensor;
  readonly output: DeviceTensor;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

type Kind = 'allReduceSum' | 'allGatherColumns';

class InProcessGroup {
  private kind: Kind | null = null;
  private arrivals: (Arrival | undefined)[];

  constructor(readonly size: number) {
    this.arrivals = new Array<Arrival | undefined>(size);
  }

  arrive(rank: number, kind: Kind, input: DeviceTensor, output: DeviceTensor): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.arrivals[rank]) return reject(new Error(`rank ${rank}: ${kind} before its previous collective (${this.kind}) completed`));
      if (this.kind !== null && this.kind !== kind) {
        const err = new Error(`rank ${rank} called ${kind} while other ranks called ${this.kind}`);
        this.fail(err);
        return reject(err);
      }
      this.kind = kind;
      this.arrivals[rank] = { input, output, resolve, reject };
      if (this.arrivals.filter((a) => a !== undefined).length === this.size) this.complete(); // filter: every() skips holes
    });
  }

  private complete(): void {
    const arrivals = this.arrivals as Arrival[];
    const kind = this.kind;
    this.arrivals = new Array<Arrival | undefined>(this.size);
    this.kind = null;
    try {
      if (kind === 'allReduceSum') this.sum(arrivals);
      else this.gatherColumns(arrivals);
    } catch (err) {
      for (const a of arrivals) a.reject(err as Error);
      return;
    }
    for (const a of arrivals) a.resolve();
  }

  private sum(arrivals: readonly Arrival[]): void {
    const parts = arrivals.map((a, r) => f32(a.input, `allReduceSum (rank ${r})`));
    if (parts.some((p) => p.length !== parts[0].length)) throw new Error(`allReduceSum: ranks hold ${parts.map((p) => p.length).join(', ')} elements`);
    const acc = Float32Array.from(parts[0]); // each add below rounds to f32 on store
    for (let r = 1; r < parts.length; r++) for (let i = 0; i < acc.length; i++) acc[i] += parts[r][i];
    for (const p of parts) p.set(acc);
  }

  private gatherColumns(arrivals: readonly Arrival[]): void {
    const [m, c] = rowsCols(arrivals[0].input);
    const outs = arrivals.map((a, r) => {
      const [om, oc] = rowsCols(a.output);
      const [lm, lc] = rowsCols(a.input);
      if (lm !== m || lc !== c || om !== m || oc !== c * this.size) {
        throw new Error(`allGatherColumns (rank ${r}): local [${a.input.shape.join(', ')}], out [${a.output.shape.join(', ')}]; expected [${m}, ${c}] and [${m}, ${c * this.size}]`);
      }
      return f32(a.output, `allGatherColumns out (rank ${r})`);
    });
    const gathered = new Float32Array(m * c * this.size);
    arrivals.forEach((a, r) => {
      const local = f32(a.input, `allGatherColumns local (rank ${r})`);
      for (let i = 0; i < m; i++) gathered.set(local.subarray(i * c, (i + 1) * c), i * c * this.size + r * c);
    });
    for (const o of outs) o.set(gathered);
  }

  private fail(err: Error): void {
    const arrivals = this.arrivals;
    this.arrivals = new Array<Arrival | undefined>(this.size);
    this.kind = null;
    for (const a of arrivals) a?.reject(err);
  }
}

/** One Collective per simulated rank (index = rank), all of one group of `size` ranks. */
export function createInProcessCollectives(size: number): Collective[] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`group size must be a positive integer (got ${size})`);
  const group = new InProcessGroup(size);
  return Array.from({ length: size }, (_, rank) => ({
    rank,
    size,
    allReduceSum: (t: DeviceTensor) => group.arrive(rank, 'allReduceSum', t, t),
    allGatherColumns: (out: DeviceTensor, local: DeviceTensor) => group.arrive(rank, 'allGatherColumns', local, out),
  }));
}
