// How each planned weight (src/model/weightPlan.ts) gets onto the backend, one strategy per
// kind of weight:
//   dense (norms, tables, bf16 linears): streamed from the files through the backend's
//     WeightSink (parallelLoader.ts), generated on the device (dummy weights), or read and
//     uploaded tensor by tensor; a dense linear is then borrowed as a LinearWeight (asLinear);
//   FP8 in the checkpoint: data and per-row scales read (WeightSource.getFp8), parts
//     concatenated by rows (data and scales alike), handed to Backend.uploadLinear;
//   online FP8 (`quantize: 'fp8'`, text decoder linears): the dense weight quantized on the
//     device (Backend.quantizeLinear, the dense copy freed at once), or on the host by
//     uploadLinear when the backend has no device quantizer.
import type { Backend, DeviceTensor, Fp8HostWeight, LinearQuantization, LinearWeight } from '../backend/backend.js';
import { WEIGHT_DTYPE_BYTES } from '../backend/hostTensor.js';
import { CheckpointError } from './checkpointError.js';
import { DummyWeightSource } from './dummyWeights.js';
import type { LoadProgress, LoadProgressListener } from './loadProgress.js';
import { GroupedStreaming } from './groupedStreaming.js';
import { loadWeightsParallel, type ParallelLoadOptions } from './parallelLoader.js';
import { isLocated } from './tensorLocation.js';
import { isTextLinear, type PlannedWeight } from './weightPlan.js';
import { expectedShapes } from './weightNames.js';
import type { HostTensor, WeightSource } from './weights.js';

/** Concatenates same-dtype, same-width matrices along their rows. */
export function concatRows(name: string, parts: readonly HostTensor[]): HostTensor {
  const cols = parts[0].shape.slice(1);
  for (const p of parts) {
    if (p.dtype !== parts[0].dtype) throw new Error(`${name}: ${p.name} is ${p.dtype}, ${parts[0].name} is ${parts[0].dtype}`);
    if (p.shape.slice(1).join() !== cols.join()) throw new Error(`${name}: ${p.name} [${p.shape.join(', ')}] cannot stack with ${parts[0].name}`);
  }
  const data = new Uint8Array(parts.reduce((a, p) => a + p.data.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.byteLength;
  }
  const rows = parts.reduce((a, p) => a + p.shape[0], 0);
  return { name, dtype: parts[0].dtype, shape: [rows, ...cols], data };
}

/** FP8 weights stacked by rows: data rows and their scales, in the same order. */
export function concatFp8Rows(name: string, parts: readonly Fp8HostWeight[]): Fp8HostWeight {
  if (parts.length === 1) return parts[0];
  const scales = new Float32Array(parts.reduce((a, p) => a + p.scales.length, 0));
  let off = 0;
  for (const p of parts) {
    scales.set(p.scales, off);
    off += p.scales.length;
  }
  return { data: concatRows(name, parts.map((p) => p.data)), scales };
}

export interface PlacementOptions {
  readonly onProgress?: LoadProgressListener;
  readonly parallel?: ParallelLoadOptions | false;
  readonly quantize?: LinearQuantization;
}

/** How one planned weight is stored on the device. */
export type WeightFormat = 'dense' | 'fp8-checkpoint' | 'fp8-online';

export function weightFormat(w: PlannedWeight, source: WeightSource, quantize: LinearQuantization | undefined): WeightFormat {
  if (source.fp8Weights?.has(w.parts[0])) return 'fp8-checkpoint';
  if (quantize === 'fp8' && isTextLinear(w)) return 'fp8-online';
  return 'dense';
}

export class WeightPlacer {
  /** Every dense device tensor placed (freed with free). */
  readonly tensors: DeviceTensor[] = [];
  /** Every linear handle placed (freed with freeLinear; a no-op for borrowed dense ones). */
  readonly linears: LinearWeight[] = [];
  private readonly byKey: ReadonlyMap<string, PlannedWeight>;
  private streamed: Map<string, DeviceTensor> | null = null;
  /** Online quantization on the device streams layer by layer (groupedStreaming.ts). */
  private grouped: GroupedStreaming | null = null;
  private progress: ReturnType<typeof tensorProgress> | null = null;
  private readonly onDevice: DummyWeightSource | null;

  constructor(
    private readonly source: WeightSource,
    private readonly backend: Backend,
    private readonly plan: readonly PlannedWeight[],
    private readonly options: PlacementOptions,
  ) {
    this.byKey = new Map(plan.map((w) => [w.key, w]));
    this.onDevice = source instanceof DummyWeightSource && backend.createDummyWeight ? source : null;
    if (options.quantize && source.fp8Weights && source.fp8Weights.size > 0) {
      throw new CheckpointError(`quantization '${options.quantize}' quantizes a bf16 checkpoint at load time, but this checkpoint is already FP8: leave the option out`);
    }
  }

  /** A weight that cannot come through the backend's WeightSink or device generator. */
  private onHost(w: PlannedWeight): boolean {
    const f = weightFormat(w, this.source, this.options.quantize);
    return f === 'fp8-checkpoint' || (f === 'fp8-online' && !this.backend.quantizeLinear);
  }

  /** Streams every weight at once when the source, the backend and the plan allow it (layer by
   *  layer, as asked for, when quantizing on the device). */
  async start(): Promise<void> {
    const { source, backend, options } = this;
    const stream = options.parallel !== false && isLocated(source) && backend.createWeightSink && !this.plan.some((w) => this.onHost(w));
    if (stream && options.quantize && backend.quantizeLinear) {
      this.grouped = new GroupedStreaming(source, backend, this.plan, { ...options.parallel, onProgress: options.onProgress });
    } else if (stream) {
      this.streamed = (await loadWeightsParallel(source, backend, this.plan, { ...options.parallel, onProgress: options.onProgress })).tensors;
    } else {
      this.progress = tensorProgress(source, this.plan.flatMap((w) => w.parts), options.onProgress);
    }
  }

  private planned(key: string): PlannedWeight {
    const w = this.byKey.get(key);
    if (!w) throw new Error(`weight ${key} was not in the load plan`);
    return w;
  }

  /** A dense device tensor of `w`, not yet recorded anywhere. */
  private async dense(w: PlannedWeight): Promise<DeviceTensor> {
    if (this.grouped) return this.grouped.take(w.key);
    if (this.streamed) {
      const t = this.streamed.get(w.key);
      if (!t) throw new Error(`weight ${w.key} was not streamed`);
      this.streamed.delete(w.key);
      return t;
    }
    let t: DeviceTensor;
    if (this.onDevice && this.backend.createDummyWeight) {
      t = this.backend.createDummyWeight(w.parts.map((n) => this.onDevice!.fillSpec(n)), w.shape);
    } else {
      t = this.backend.uploadWeight(await this.hostDense(w), w.shape);
    }
    this.progress?.placed(w.parts);
    return t;
  }

  private async hostDense(w: PlannedWeight): Promise<HostTensor> {
    const parts = await Promise.all(w.parts.map((n) => this.source.get(n)));
    return parts.length === 1 ? parts[0] : concatRows(w.key, parts);
  }

  /** A norm weight, table or other non-linear tensor. */
  async tensor(key: string): Promise<DeviceTensor> {
    const t = await this.dense(this.planned(key));
    this.tensors.push(t);
    return t;
  }

  /** A linear weight in the format the checkpoint and the options ask for. */
  async linear(key: string): Promise<LinearWeight> {
    const w = this.planned(key);
    const format = weightFormat(w, this.source, this.options.quantize);
    let lin: LinearWeight;
    if (format === 'fp8-checkpoint') {
      const get = this.source.getFp8?.bind(this.source);
      if (!get) throw new Error(`weight source lists ${w.parts[0]} as FP8 but cannot read FP8 weights`);
      const fp8 = concatFp8Rows(w.key, await Promise.all(w.parts.map((n) => get(n))));
      lin = this.backend.uploadLinear(w.shape ? { ...fp8, data: { ...fp8.data, shape: w.shape } } : fp8);
      this.progress?.placed(w.parts);
    } else if (format === 'fp8-online' && this.backend.quantizeLinear) {
      // On the device: the dense weight lands (streamed with its layer, generated or uploaded),
      // is quantized, and its dense copy is freed at once.
      const dense = await this.dense(w);
      lin = this.backend.quantizeLinear(dense);
      this.backend.free(dense);
    } else if (format === 'fp8-online') {
      const host = await this.hostDense(w);
      lin = this.backend.uploadLinear(w.shape ? { ...host, shape: w.shape } : host, { quantize: this.options.quantize });
      this.progress?.placed(w.parts);
    } else {
      const t = await this.dense(w);
      this.tensors.push(t);
      lin = this.backend.asLinear(t);
    }
    this.linears.push(lin);
    return lin;
  }

  /** Checks every streamed weight was used, and reports the end of the load. */
  finish(): void {
    if (this.streamed && this.streamed.size > 0) throw new Error(`weights ${[...this.streamed.keys()].join(', ')} were loaded but not used`);
    this.grouped?.finish();
    this.progress?.done();
  }

  /** Frees everything placed so far (and streamed but not yet taken). */
  release(): void {
    for (const l of this.linears) this.backend.freeLinear(l);
    for (const t of [...this.tensors, ...(this.streamed?.values() ?? [])]) this.backend.free(t);
    this.linears.length = 0;
    this.tensors.length = 0;
    this.streamed?.clear();
    this.grouped?.release();
  }
}

/** Progress of the tensor-by-tensor path (dummy weights, FP8 weights, a source without files). */
function tensorProgress(source: WeightSource, names: readonly string[], listener: LoadProgressListener | undefined) {
  const start = performance.now();
  const width = WEIGHT_DTYPE_BYTES[source.config.dtype];
  const shapes = expectedShapes(source.config);
  const size = (n: string) => (shapes.get(n) ?? []).reduce((a, d) => a * d, 1) * (source.fp8Weights?.has(n) ? 1 : width);
  const bytesTotal = names.reduce((a, n) => a + size(n), 0);
  let bytesDone = 0;
  let tensorsDone = 0;
  const emit = (phase: LoadProgress['phase']) =>
    listener?.({ phase, bytesDone, bytesTotal, tensorsDone, tensorsTotal: names.length, elapsedSeconds: (performance.now() - start) / 1000 });
  emit('start');
  return {
    placed(parts: readonly string[]) {
      for (const n of parts) bytesDone += size(n);
      tensorsDone += parts.length;
      emit('progress');
    },
    done: () => emit('done'),
  };
}
