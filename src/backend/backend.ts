// The backend interface: device memory and a short list of coarse ops. Model code (src/model/)
// calls only this; a new device is a new folder under src/backend/ implementing it.
//
// Conventions
// - Tensors are row-major and contiguous. Shapes in the comments: [rows, cols].
// - Every op writes into an `out` tensor the caller allocated, so a runner can plan all memory
//   up front (weights, KV cache, per-step workspace) and allocate nothing in the decode path.
//   Use `view` to address the first rows of a workspace buffer sized for the largest step.
// - Activations (hidden states, Q/K/V, KV cache) have the backend's `activationDType`
//   (f32 on the CPU, bf16 on CUDA); weights keep the dtype `uploadWeight` chose. Float ops
//   accumulate in f32 and compute norms, softmax and RoPE angles in f32 whatever the storage.
// - Index tensors (token ids, positions, slot mappings, block tables, row indices) are i32.
// - Ops are enqueued in order; `download` and the sampling ops resolve once their inputs are
//   computed. A backend may run ops asynchronously (CUDA stream) as long as that order holds.

import type { HostTensor, WeightDType } from './hostTensor.js';
import type { SampledToken, SeqSampling, TokenLogprobs } from './sampling/types.js';
import type { DummyFillSpec } from './dummyFill.js';

/** Element types a device tensor may hold. */
export type DType = 'f32' | 'bf16' | 'f16' | 'i32';

/** An opaque handle to device memory. Only the backend that made it can read it. */
export interface DeviceTensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** A device's free and total memory in bytes. */
export interface DeviceMemoryInfo {
  /** Bytes still free for allocations (weights, KV cache, workspace). */
  readonly freeBytes: number;
  readonly totalBytes: number;
}

/** Where each sequence of a batch finds its keys and values in the paged KV cache. */
export interface AttentionMetadata {
  readonly numSeqs: number;
  /** i32 [numSeqs + 1]: prefix sums of the per-sequence query lengths; sequence s owns the
   *  query rows queryStarts[s] .. queryStarts[s+1]-1. */
  readonly queryStarts: DeviceTensor;
  /** i32 [numSeqs]: tokens of each sequence in the cache, including this step's new ones
   *  (already written with `writeKv`). Query row j of sequence s sits at position
   *  contextLens[s] - queryLen(s) + j and attends causally to cache positions 0..that. */
  readonly contextLens: DeviceTensor;
  /** i32 [numSeqs, maxBlocksPerSeq]: block ids of each sequence, padded with -1. */
  readonly blockTables: DeviceTensor;
  readonly maxBlocksPerSeq: number;
  /** Host-side maxima, for launch sizing. */
  readonly maxQueryLen: number;
  readonly maxContextLen: number;
}

/** The images of one vision-encoder call, concatenated along the patch axis. */
export interface ImageSpans {
  /** i32 [numImages + 1]: prefix sums of the per-image patch counts. */
  readonly patchStarts: DeviceTensor;
  /** Host copies: per image its patch grid (rows x cols = patches of the image). */
  readonly gridRows: readonly number[];
  readonly gridCols: readonly number[];
  readonly maxPatches: number;
}

/** Backend.linearRopeWriteKv's operands: one token's attention inputs. */
export interface LinearRopeWriteKvArgs {
  /** [1, (numHeads + 2 numKvHeads) * headDim]: q, then k, then v. */
  readonly qkv: DeviceTensor;
  /** [1, in] */
  readonly x: DeviceTensor;
  /** [(numHeads + 2 numKvHeads) * headDim, in]: wq, wk, wv rows. */
  readonly w: LinearWeight;
  /** i32 [1] */
  readonly positions: DeviceTensor;
  /** i32 [1] */
  readonly slotMapping: DeviceTensor;
  readonly kCache: DeviceTensor;
  readonly vCache: DeviceTensor;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly theta: number;
}

/** Inputs of paged attention: queries, the KV cache and its block tables, per-sequence lengths. */
export interface PagedAttentionArgs {
  /** [numTokens, numHeads * headDim] */
  readonly out: DeviceTensor;
  /** [numTokens, numHeads * headDim], RoPE already applied. */
  readonly q: DeviceTensor;
  /** [numBlocks, blockSize, numKvHeads, headDim] each, one pair per layer. */
  readonly kCache: DeviceTensor;
  readonly vCache: DeviceTensor;
  readonly meta: AttentionMetadata;
  readonly numHeads: number;
  /** Query head h reads KV head floor(h / (numHeads / numKvHeads)). */
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Multiplies q·k before the softmax (1/sqrt(headDim) for Mistral). */
  readonly scale: number;
}

/** Inputs of the vision encoder's attention (block-diagonal over images). */
export interface VisionAttentionArgs {
  /** [numPatches, numHeads * headDim] */
  readonly out: DeviceTensor;
  /** [numPatches, numHeads * headDim] each (no GQA in the vision encoder). */
  readonly q: DeviceTensor;
  readonly k: DeviceTensor;
  readonly v: DeviceTensor;
  /** Bidirectional within an image, nothing across images (block-diagonal). */
  readonly spans: ImageSpans;
  readonly numHeads: number;
  readonly headDim: number;
  readonly scale: number;
}

/** One row of logits to sample from. */
export interface SampleRequest {
  /** Row of the logits tensor. */
  readonly row: number;
  readonly params: SeqSampling;
}

/** One row of logits to score against a given token (prompt logprobs). */
export interface ScoreRequest {
  readonly row: number;
  /** The token whose logprob and rank are reported. */
  readonly targetTokenId: number;
  /** Top alternatives to report besides it (0: none). */
  readonly numLogprobs: number;
}

/** A recorded sequence of ops (see Backend.captureGraph). */
export interface RecordedGraph {
  /** Enqueues the recorded ops on the backend's stream, ordered like any op. */
  replay(): void;
  dispose(): void;
}

/** A linear layer's weight [out, in], as the backend stores it. Model code passes it to
 *  `Backend.linear` and never looks inside; only the backend that made it can use it. */
export interface LinearWeight {
  readonly shape: readonly [number, number]; // [out, in]
  /** 'dense': a weight tensor as uploadWeight stores it; 'fp8': E4M3 data with per-row scales
   *  (however the backend keeps them: the CPU backend dequantizes to f32 at upload). */
  readonly format: 'dense' | 'fp8';
  /** Device bytes it holds (data + scales): what memory plans count. A borrowed dense weight
   *  (Backend.asLinear) and a row view (linearRows) count the rows they cover. */
  readonly bytes: number;
}

/** An FP8 weight on the host: E4M3 data [out, in] (dtype 'f8_e4m3') and one f32 scale per
 *  output row: dequantized w[r, c] = e4m3(data[r, c]) * scales[r]. A per-tensor scale is
 *  broadcast to every row by the loader; fused weights (wq|wk|wv, w1|w3) concatenate the rows
 *  of data and of scales alike. */
export interface Fp8HostWeight {
  readonly data: HostTensor;
  readonly scales: Float32Array;
}

/** Quantization a backend applies to a dense weight as it takes it (vLLM's online FP8). */
export type LinearQuantization = 'fp8';

/**
 * The `feeds` argument of the ops that produce a linear layer's input (rmsNorm, addRmsNorm,
 * siluAndMul): the weight of the linear(s) that read `out` next. A backend may then also write
 * `out` in the form that weight multiplies (the CUDA backend with FP8 weights: E4M3 codes and
 * per-token scales, in the same kernel, instead of a separate quantization pass in linear). The
 * caller promises that nothing else writes `out` before those linears; results are the same
 * with or without `feeds`.
 */
export type ActivationFeeds = LinearWeight | undefined;

/** What a backend runs on, for logs and benchmark JSON. */
export interface BackendDescription {
  /** The device in words: 'cpu, 2 threads', 'NVIDIA H100 80GB HBM3'. */
  readonly device: string;
  /** Host threads its ops use, where that applies (null on a GPU). */
  readonly threads: number | null;
  /** Backend-specific figures worth recording beside a benchmark (JSON-serialisable). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** The ops the model runs on: allocation, matmuls, attention, sampling. Implemented by the CPU and CUDA backends. */
export interface Backend {
  /** 'cpu', 'cuda', ... for messages and benchmarks only; model code never branches on it. */
  readonly name: string;
  /** What the backend runs on, for messages and benchmarks. */
  describe(): BackendDescription;
  /** Resolves once the backend runs at full speed (the CPU backend: all matmul threads up). */
  ready(): Promise<void>;
  /** dtype of hidden states, Q/K/V and the KV cache on this backend. */
  readonly activationDType: 'f32' | 'bf16' | 'f16';

  // ---- memory ----------------------------------------------------------------------------

  /** Free and total device memory in bytes. */
  memoryInfo(): DeviceMemoryInfo;
  /** New tensor; contents unspecified. */
  alloc(shape: readonly number[], dtype: DType): DeviceTensor;
  /** A weight from the checkpoint; the backend picks the stored dtype (the CPU backend keeps
   *  f32, converting bf16/f16 once here). `shape` overrides the tensor's (same element count),
   *  e.g. the patch conv [vHidden, 3, p, p] as the matrix [vHidden, 3*p*p]. */
  uploadWeight(tensor: HostTensor, shape?: readonly number[]): DeviceTensor;
  /** Optional (`--load-format dummy` without host generation): a weight holding the row
   *  concatenation of the dummy tensors `parts` (src/model/dummyWeights.ts), generated on the
   *  device bit-exactly as the host generator does, in the dtype uploadWeight would store.
   *  `shape` overrides the concatenation's shape (same element count). */
  createDummyWeight?(parts: readonly DummyFillSpec[], shape?: readonly number[]): DeviceTensor;
  /** Optional: streams checkpoint bytes into weights through staging buffers
   *  (src/backend/weightSink.ts); the weights equal uploadWeight's bit for bit. */
  createWeightSink?(): WeightSink;
  /** Copies host data into `dst` starting at element `offset`. Float host data is f32 and is
   *  converted to dst.dtype; i32 tensors take an Int32Array. */
  write(dst: DeviceTensor, data: Float32Array | Int32Array, offset?: number): void;
  /** Reads a tensor back (floats as f32). */
  download(src: DeviceTensor): Promise<Float32Array | Int32Array>;
  /** A tensor sharing `base`'s memory: `shape` (any, same dtype) starting at element `offset`;
   *  must lie inside base. Freeing a view is a no-op; it dies with its base. */
  view(base: DeviceTensor, shape: readonly number[], offset?: number): DeviceTensor;
  /** Ordered like an op: a tensor may be freed as soon as the last op reading it is
   *  enqueued (the memory is reused only by later ops). */
  free(tensor: DeviceTensor): void;
  /** Resolves when every enqueued op has finished. */
  synchronize(): Promise<void>;
  /** Releases the device (threads, contexts). The backend is unusable afterwards. */
  close(): Promise<void>;
  /** Optional (CUDA graphs): records the ops that `record` enqueues, without running them,
   *  into a graph that `replay` runs again with the same launch parameters and pointers (so
   *  the recorded ops must read their per-step inputs from fixed buffers). `record` may not
   *  allocate, free, write from the host or synchronise. */
  captureGraph?(record: () => void): RecordedGraph;

  // ---- ops -------------------------------------------------------------------------------

  /** out[i, :] = table[ids[i], :]. out [n, hidden], table [vocab, hidden], ids i32 [n]. */
  embedding(out: DeviceTensor, table: DeviceTensor, ids: DeviceTensor): void;

  /** out = x · wᵀ: x [m, k] activations, w [n, k] as stored (any weight dtype), out [m, n]
   *  (activation dtype or f32, e.g. f32 logits). */
  matmul(out: DeviceTensor, x: DeviceTensor, w: DeviceTensor): void;

  // ---- linear layers (LinearWeight) ----------------------------------------------------------
  // Dense weights behave exactly as matmul on the same tensor (bit for bit). FP8 weights:
  // the backend chooses how to multiply (the CPU dequantizes to f32 at upload, so products are
  // of e4m3 * scale rounded once to f32; CUDA streams fp8 for small m and runs FP8 tensor-core
  // GEMMs with per-token activation scales for large m).

  /** A linear weight from the host: a dense tensor (stored as uploadWeight would; with
   *  `quantize: 'fp8'` quantized first: per row scale = absmax / 448 in f32, each element
   *  e4m3(w / scale) rounded to nearest even, saturating at ±448; a zero row gets scale 1), or
   *  an FP8 weight. The handle owns its memory (freeLinear). */
  uploadLinear(w: HostTensor | Fp8HostWeight, opts?: { readonly quantize?: LinearQuantization }): LinearWeight;
  /** A dense weight tensor (uploadWeight, createDummyWeight, a WeightSink) seen as a linear
   *  weight, without a copy: the handle borrows `w` (valid while it lives; freeLinear on it
   *  frees nothing, free(w) does). w [out, in]. */
  asLinear(w: DeviceTensor): LinearWeight;
  /** Optional: quantizes a dense device weight [out, in] to FP8 on the device, exactly as
   *  uploadLinear's quantize path does on the host. `dense` is left as it was (free it after). */
  quantizeLinear?(dense: DeviceTensor): LinearWeight;
  /** Device bytes uploadLinear would use for a weight of `shape` in `format` (for a dense one,
   *  stored from a checkpoint of `dtype`): what a memory plan counts before loading. */
  linearBytes(shape: readonly [number, number], format: 'dense' | 'fp8', dtype: WeightDType): number;
  /** out [m, out] = x [m, in] · dequant(w)ᵀ (activation dtype or f32 out, like matmul). */
  linear(out: DeviceTensor, x: DeviceTensor, w: LinearWeight): void;
  /** Rows rowStart .. rowStart+rows-1 of `w` as a linear weight sharing its memory (wq, wk, wv
   *  of a fused wqkv); freeing it is a no-op, it dies with `w`. */
  linearRows(w: LinearWeight, rowStart: number, rows: number): LinearWeight;
  /** Releases what the handle owns (ordered like free; a no-op for borrowed and row views). */
  freeLinear(w: LinearWeight): void;

  /** out = a + b, all [n, d]. */
  add(out: DeviceTensor, a: DeviceTensor, b: DeviceTensor): void;

  /** out[i] = rmsnorm(x[i]) * weight: x * rsqrt(mean(x²) + eps) in f32, rounded to the
   *  activation dtype, then times weight. x, out [n, d], weight [d]. `feeds`: see
   *  ActivationFeeds. */
  rmsNorm(out: DeviceTensor, x: DeviceTensor, weight: DeviceTensor, eps: number, feeds?: ActivationFeeds): void;

  /** Fused residual add then norm: residual += x (in place), out = rmsnorm(residual) * weight.
   *  residual, x, out [n, d]. `feeds`: see ActivationFeeds. */
  addRmsNorm(
    out: DeviceTensor,
    residual: DeviceTensor,
    x: DeviceTensor,
    weight: DeviceTensor,
    eps: number,
    feeds?: ActivationFeeds,
  ): void;

  /** Text RoPE, HF rotate-half layout, in place on q [n, numHeads*headDim] and
   *  k [n, numKvHeads*headDim]: for pair (i, i + headDim/2) the angle is
   *  positions[t] * theta^(-2i/headDim) (inverse frequencies and angles in f32). */
  ropeText(
    q: DeviceTensor,
    k: DeviceTensor,
    positions: DeviceTensor,
    numHeads: number,
    numKvHeads: number,
    headDim: number,
    theta: number,
  ): void;

  /** Pixtral 2D RoPE (docs/model.md#the-math), in place on q and k [n, numHeads*headDim]: with
   *  f_j = theta^(-j/(headDim/2)), patch (r, c) has angles [r f_0, r f_2, .., c f_1, c f_3, ..]
   *  (headDim/2 of them), duplicated to headDim and applied with rotate-half.
   *  patchRows, patchCols i32 [n]. */
  ropeVision(
    q: DeviceTensor,
    k: DeviceTensor,
    patchRows: DeviceTensor,
    patchCols: DeviceTensor,
    numHeads: number,
    headDim: number,
    theta: number,
  ): void;

  /** out = silu(x[:, :d]) * x[:, d:]: x [n, 2d] (gate rows then up rows of a fused w1|w3
   *  matmul), out [n, d]. `feeds`: see ActivationFeeds. */
  siluAndMul(out: DeviceTensor, x: DeviceTensor, feeds?: ActivationFeeds): void;

  /** out = silu(gate) * up of gateUp = x · wᵀ: linear(gateUp, x, w) then siluAndMul(out,
   *  gateUp, feeds), which a backend may run as one pass (gateUp then stays unwritten). x [n, in],
   *  w [2d, in] (gate rows then up rows), gateUp [n, 2d], out [n, d]; out as the two ops give it. */
  linearSiluAndMul(out: DeviceTensor, gateUp: DeviceTensor, x: DeviceTensor, w: LinearWeight, feeds?: ActivationFeeds): void;

  /** Exact GELU: out = x * (1 + erf(x / sqrt 2)) / 2, [n, d]. */
  gelu(out: DeviceTensor, x: DeviceTensor): void;

  /** Writes this step's keys and values into the paged cache: for token t,
   *  kCache[slot / blockSize, slot % blockSize] = k[t] with slot = slotMapping[t]; a slot of
   *  -1 is skipped. k, v [n, numKvHeads*headDim]; caches [numBlocks, blockSize, kvH, hd]. */
  writeKv(
    kCache: DeviceTensor,
    vCache: DeviceTensor,
    k: DeviceTensor,
    v: DeviceTensor,
    slotMapping: DeviceTensor,
  ): void;

  /** For one token: linear(qkv, x, w), then ropeText on qkv's q and k parts and writeKv of its k
   *  and v parts, which a backend may run as one pass; results as the three ops give them. */
  linearRopeWriteKv(args: LinearRopeWriteKvArgs): void;

  /** Causal attention of the new tokens of many sequences over the paged cache (keys and
   *  values of this step already written). Serves prefill chunks and decode tokens alike. */
  pagedAttention(args: PagedAttentionArgs): void;

  /** Block-diagonal bidirectional attention over the patches of several images. */
  visionAttention(args: VisionAttentionArgs): void;

  /** The patch conv's input (src/backend/patchLayout.ts): per image of `spans` with grid
   *  h x w, its normalised pixels [C, h*P, w*P] (f32, images concatenated: image i starts at
   *  element patchStarts[i] * C*P*P) become rows patchStarts[i] + r*w + c of out, each patch
   *  (r, c) flattened (channel, y, x). pixels f32 [numPatches*C*P*P], out [numPatches, C*P*P]
   *  in the activation dtype (what the patch-conv matmul reads). */
  patchify(out: DeviceTensor, pixels: DeviceTensor, spans: ImageSpans, patch: number): void;

  /** Channel-major 2x2 (merge x merge) patch merge gather, per image of `spans` with grid
   *  h x w: out row (image offset + bi*(w/merge) + bj) holds, at c*merge² + di*merge + dj,
   *  x[(merge*bi+di)*w + merge*bj+dj, c]. x [numPatches, C], out [numPatches/merge², C*merge²]. */
  patchMerge(out: DeviceTensor, x: DeviceTensor, spans: ImageSpans, merge: number): void;

  /** out[i, :] = src[rows[i], :]. rows i32 [m]; src [n, d], out [m, d]. */
  gatherRows(out: DeviceTensor, src: DeviceTensor, rows: DeviceTensor): void;

  /** dst[rows[i], :] = src[i, :]. rows i32 [m]; src [m, d], dst [n, d]. */
  scatterRows(dst: DeviceTensor, src: DeviceTensor, rows: DeviceTensor): void;

  // ---- logits -> tokens ---------------------------------------------------------------------

  /** Samples one token per request from f32 logits [rows, vocab] with the SeqSampling
   *  semantics of src/backend/sampling (vLLM's order: logit bias, banned ids, penalties,
   *  then greedy, or temperature, min-p, top-k, top-p and a draw seeded by (seed, step)).
   *  Logprobs (when params.numLogprobs >= 0) are of the raw distribution. */
  sample(logits: DeviceTensor, requests: readonly SampleRequest[]): Promise<SampledToken[]>;

  /** Logprob, rank and top alternatives of given tokens under the raw distribution of
   *  f32 logits [rows, vocab] (prompt logprobs). */
  score(logits: DeviceTensor, requests: readonly ScoreRequest[]): Promise<TokenLogprobs[]>;
}

// How a checkpoint loader streams weights onto a backend without building host copies of them
// (src/model/parallelLoader.ts): it asks for each device tensor up front, reads tensor bytes
// from the files into a few host staging buffers the sink owns (page-locked on CUDA), and hands
// each filled range to `write`, which copies it into place (rows of a fused tensor land at
// their element offset). Host memory stays at the staging buffers, whatever the model's size.

export interface WeightSink {
  /** A weight tensor for checkpoint data of `dtype`, stored in the dtype uploadWeight would
   *  choose for it. Every allocWeight comes before the first write. */
  allocWeight(shape: readonly number[], dtype: WeightDType): DeviceTensor;
  /** `count` host buffers of `bytes` each that reads fill and `write` copies from. */
  stagingBuffers(count: number, bytes: number): Uint8Array[];
  /** Copies `src` (whole little-endian elements of `dtype`, a range of a staging buffer) into
   *  `dst` from element `offset`, converting as uploadWeight does; resolves once `src` may be
   *  overwritten. Copies may still be in flight on the device when it resolves. */
  write(dst: DeviceTensor, offset: number, src: Uint8Array, dtype: WeightDType): Promise<void>;
  /** Resolves once every write is in place and visible to ops enqueued afterwards. */
  finish(): Promise<void>;
  /** Releases the staging buffers and any copy machinery (after finish, or on failure). */
  close(): void;
}
