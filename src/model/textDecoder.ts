// The Mistral text decoder on a backend (docs/model.md#the-math): per layer
//   h = x + wo(attn(rope(wq n), rope(wk n), wv n)),  n = rmsnorm(x)
//   y = h + w2(silu(w1 m) * w3 m),                  m = rmsnorm(h)
// then the final rmsnorm. Residual adds are fused with the following norm.
import type { AttentionMetadata, Backend, DeviceTensor } from '../backend/backend.js';
import type { TextConfig } from './config.js';
import type { TextWeights } from './deviceWeights.js';

/** Per-step buffers sized for the largest step; each call uses views of their first rows. */
export class TextWorkspace {
  readonly residual: DeviceTensor; // [T, d]
  readonly normed: DeviceTensor; // [T, d]
  /** [T * (heads + 2*kvHeads) * hd]: a step of n tokens keeps q [n, heads*hd], then
   *  k [n, kvHeads*hd], then v [n, kvHeads*hd] back to back, which for n = 1 is exactly the
   *  row that the fused wqkv matmul writes. */
  readonly qkv: DeviceTensor;
  readonly attn: DeviceTensor; // [T, heads*hd]
  readonly proj: DeviceTensor; // [T, d]: attention output projection, then MLP output
  readonly gateUp: DeviceTensor; // [T, 2*inter]
  readonly act: DeviceTensor; // [T, inter]
  private readonly all: DeviceTensor[];

  constructor(
    private readonly backend: Backend,
    cfg: TextConfig,
    readonly maxTokens: number,
  ) {
    const a = backend.activationDType;
    const T = maxTokens;
    this.all = [
      (this.residual = backend.alloc([T, cfg.hiddenSize], a)),
      (this.normed = backend.alloc([T, cfg.hiddenSize], a)),
      (this.qkv = backend.alloc([T * (cfg.numHeads + 2 * cfg.numKvHeads) * cfg.headDim], a)),
      (this.attn = backend.alloc([T, cfg.numHeads * cfg.headDim], a)),
      (this.proj = backend.alloc([T, cfg.hiddenSize], a)),
      (this.gateUp = backend.alloc([T, 2 * cfg.intermediateSize], a)),
      (this.act = backend.alloc([T, cfg.intermediateSize], a)),
    ];
  }

  /** The first `rows` rows of buffer `t`. */
  rows(t: DeviceTensor, rows: number): DeviceTensor {
    return this.backend.view(t, [rows, t.shape[1]]);
  }

  free(): void {
    for (const t of this.all) this.backend.free(t);
  }
}

export interface TextStepInputs {
  readonly numTokens: number;
  /** i32 [numTokens] */
  readonly positions: DeviceTensor;
  /** i32 [numTokens] */
  readonly slotMapping: DeviceTensor;
  readonly meta: AttentionMetadata;
  /** Per layer: [numBlocks, blockSize, kvHeads, hd]. */
  readonly kCaches: readonly DeviceTensor[];
  readonly vCaches: readonly DeviceTensor[];
}

/**
 * The decoder's ops over one step, in halves: `attention(l)` ends with layer l's output
 * projection in `proj`, `mlp(l)` with its down projection in `proj` (each residual add is fused
 * into the next norm), `finish()` leaves the final-normed hidden states in `ws.normed`. A
 * tensor-parallel rank (src/model/tensorParallel/) all-reduces `proj` after each half; the
 * single-device decoder runs them back to back (runTextDecoder).
 */
export interface TextLayerSteps {
  /** [numTokens, d]: the projection each half ends with. */
  readonly proj: DeviceTensor;
  attention(l: number): void;
  mlp(l: number): void;
  finish(): void;
}

/** The halves of the decoder over `ws.residual`'s first numTokens rows. `cfg` gives the heads
 *  and sizes the weights, workspace and caches hold (a rank's own share under tensor parallelism). */
export function textLayerSteps(
  backend: Backend,
  cfg: TextConfig,
  w: TextWeights,
  ws: TextWorkspace,
  s: TextStepInputs,
): TextLayerSteps {
  const n = s.numTokens;
  const residual = ws.rows(ws.residual, n);
  const normed = ws.rows(ws.normed, n);
  const qw = cfg.numHeads * cfg.headDim;
  const kw = cfg.numKvHeads * cfg.headDim;
  const q = backend.view(ws.qkv, [n, qw], 0);
  const k = backend.view(ws.qkv, [n, kw], n * qw);
  const v = backend.view(ws.qkv, [n, kw], n * (qw + kw));
  const qkvRow = n === 1 ? backend.view(ws.qkv, [1, qw + 2 * kw], 0) : null;
  const attn = ws.rows(ws.attn, n);
  const proj = ws.rows(ws.proj, n);
  const gateUp = ws.rows(ws.gateUp, n);
  const act = ws.rows(ws.act, n);
  const eps = cfg.rmsNormEps;
  const scale = 1 / Math.sqrt(cfg.headDim);
  return {
    proj,
    attention(l: number): void {
      const layer = w.layers[l];
      // `feeds`: the backend may write normed's input form for wqkv in the same kernel.
      if (l === 0) backend.rmsNorm(normed, residual, layer.attentionNorm, eps, layer.wqkv);
      else backend.addRmsNorm(normed, residual, proj, layer.attentionNorm, eps, layer.wqkv);
      const rope = { numHeads: cfg.numHeads, numKvHeads: cfg.numKvHeads, headDim: cfg.headDim, theta: cfg.ropeTheta };
      if (qkvRow) {
        // One decode token: one pass over wq|wk|wv, RoPE and the cache write with it.
        backend.linearRopeWriteKv({ qkv: qkvRow, x: normed, w: layer.wqkv, positions: s.positions, slotMapping: s.slotMapping, kCache: s.kCaches[l], vCache: s.vCaches[l], ...rope });
      } else {
        backend.linear(q, normed, layer.wq);
        backend.linear(k, normed, layer.wk);
        backend.linear(v, normed, layer.wv);
        backend.ropeText(q, k, s.positions, rope.numHeads, rope.numKvHeads, rope.headDim, rope.theta);
        backend.writeKv(s.kCaches[l], s.vCaches[l], k, v, s.slotMapping);
      }
      backend.pagedAttention({
        out: attn,
        q,
        kCache: s.kCaches[l],
        vCache: s.vCaches[l],
        meta: s.meta,
        numHeads: cfg.numHeads,
        numKvHeads: cfg.numKvHeads,
        headDim: cfg.headDim,
        scale,
      });
      backend.linear(proj, attn, layer.wo);
    },
    mlp(l: number): void {
      const layer = w.layers[l];
      backend.addRmsNorm(normed, residual, proj, layer.ffnNorm, eps, layer.w13);
      backend.linearSiluAndMul(act, gateUp, normed, layer.w13, layer.w2);
      backend.linear(proj, act, layer.w2);
    },
    finish(): void {
      if (w.layers.length === 0) backend.rmsNorm(normed, residual, w.norm, eps);
      else backend.addRmsNorm(normed, residual, proj, w.norm, eps);
    },
  };
}

/**
 * Runs the decoder layers over the embeddings in `ws.residual` (first numTokens rows) and
 * leaves the final-normed hidden states in `ws.normed`.
 */
export function runTextDecoder(
  backend: Backend,
  cfg: TextConfig,
  w: TextWeights,
  ws: TextWorkspace,
  s: TextStepInputs,
): void {
  const steps = textLayerSteps(backend, cfg, w, ws, s);
  for (let l = 0; l < w.layers.length; l++) {
    steps.attention(l);
    steps.mlp(l);
  }
  steps.finish();
}
