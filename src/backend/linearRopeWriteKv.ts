// Backend.linearRopeWriteKv as its three ops, for backends (and cases) without a fused pass.
import type { Backend, LinearRopeWriteKvArgs } from './backend.js';

/** The q, k, v parts of a one-token qkv row. */
function qkvParts(backend: Backend, a: LinearRopeWriteKvArgs) {
  const qw = a.numHeads * a.headDim;
  const kw = a.numKvHeads * a.headDim;
  return { q: backend.view(a.qkv, [1, qw], 0), k: backend.view(a.qkv, [1, kw], qw), v: backend.view(a.qkv, [1, kw], qw + kw) };
}

/** linear, then ropeText, then writeKv. */
export function linearRopeWriteKvUnfused(backend: Backend, a: LinearRopeWriteKvArgs): void {
  const { q, k, v } = qkvParts(backend, a);
  backend.linear(a.qkv, a.x, a.w);
  backend.ropeText(q, k, a.positions, a.numHeads, a.numKvHeads, a.headDim, a.theta);
  backend.writeKv(a.kCache, a.vCache, k, v, a.slotMapping);
}
