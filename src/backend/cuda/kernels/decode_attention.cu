// Decode attention over the paged KV cache on tensor cores, reading each K/V row once per GQA
// group: one CTA per (sequence, kv head, context split), 4 warps that take interleaved 16-key
// tiles of the split, K and V loaded straight from the cache into registers with 16-byte loads
// (no shared memory), merged through shared memory at the end.
//
// Rows: the CTA's up to 8 query rows are (query token i, head j of the group) pairs, row
// r = i * group + j, each with its own causal position contextLens[s] - queryLen(s) + i. The
// host uses this kernel only when maxQueryLen * group <= 8 (pure decode steps at group <= 8).
//
// Both products are transposed so the 8 rows are the n = 8 side of mma.m16n8k16:
//   S^T [16 keys x 8 rows] = K [16 keys x 16 dims] . Q^T [16 dims x 8 rows]
//   O^T [16 dims x 8 rows] += V^T [16 dims x 16 keys] . P^T [16 keys x 8 rows]
// Thread (g = lane / 4, tq = lane % 4) loads the 8 dims 32c + 8tq .. +7 of key rows g and g+8
// of the tile for each 32-dim chunk c. For S^T the contraction over dims is order-free, so K
// and Q use the same permutation: k-chunk 2c + h takes words 2h, 2h+1 of those loads. For O^T
// the K-side (keys) must pair up within a thread: movmatrix.trans turns the loaded V words
// (one key, two dims) into A fragments (two keys, one dim), and the S^T C fragment (key g,
// rows 2tq, 2tq+1) into the P^T B fragment (keys 2tq, 2tq+1, row g). After the transpose,
// m-row g of m-tile 2c + p is dim D(c, 2p, g) and m-row g + 8 is D(c, 2p + 1, g), where
// D(c, i, g) = 32c + 8(g / 2) + 2i + g % 2.
//
// Output: out [numTokens, numHeads * HD] bf16. With several splits each split writes partial
// [(t * numHeads + h) * numSplits + z][HD + 2] f32 = (max in natural-log units, sum, acc), and
// either attention_combine (paged_attention.cu) merges them (decode_attention_hdN) or, fused
// (decode_attention_fused_hdN), the split CTA that finishes last for its (sequence, kv head)
// does: it counts in counters[seq * numKvHeads + kvh] (zero before the launch; the last CTA
// resets it), and splits past a sequence's context do nothing at all.
#include "common.cuh"

#define DA_WARPS 4
#define DA_TILE 16
#define DA_ROWS 8
#define DA_MAX_SPLITS 256
#define DA_NEG_INF (-__int_as_float(0x7f800000))
#define DA_LOG2E 1.4426950408889634f
#define DA_LN2 0.6931471805599453f

__device__ __forceinline__ void da_mma(float* c, u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

// Transpose of the warp's 8x8 b16 matrix whose row lane/4, columns 2(lane%4), +1 this lane holds.
__device__ __forceinline__ u32 da_trans(u32 x) {
  u32 y;
  asm volatile("movmatrix.sync.aligned.m8n8.trans.b16 %0, %1;\n" : "=r"(y) : "r"(x));
  return y;
}

__device__ __forceinline__ uint4 da_load(const bf16_t* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
  return v;
}

// Load through L2 only: other CTAs' partials, written during this launch.
__device__ __forceinline__ float da_load_cg(const float* p) {
  float v;
  asm volatile("ld.global.cg.f32 %0, [%1];\n" : "=f"(v) : "l"(p));
  return v;
}

__device__ __forceinline__ u32 da_pack(float lo, float hi) {
  return (u32)f32_to_bf16(lo) | ((u32)f32_to_bf16(hi) << 16);
}

template <int HD, bool FUSED>
__device__ __forceinline__ void decode_attention(bf16_t* out, float* partial, int* counters, const bf16_t* q, const bf16_t* kCache,
                                                 const bf16_t* vCache, const int* queryStarts, const int* contextLens,
                                                 const int* blockTables, int maxBlocksPerSeq, int blockSize, int numHeads,
                                                 int numKvHeads, float scale, int splitLen) {
  constexpr int NC = HD / 32;  // 32-dim chunks
  constexpr int MT = HD / 16;  // m-tiles of O^T
  __shared__ float smAcc[DA_WARPS][DA_ROWS][HD];
  __shared__ float smM[DA_WARPS][DA_ROWS], smL[DA_WARPS][DA_ROWS];

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, tq = lane & 3;
  const int seq = blockIdx.x, kvh = blockIdx.y, z = blockIdx.z, numSplits = gridDim.z;
  const int group = numHeads / numKvHeads;
  const int qStart = queryStarts[seq];
  const int qLen = queryStarts[seq + 1] - qStart;
  const int ctx = contextLens[seq];
  // Splits that hold keys of this sequence (fused: the others have nothing to do).
  const int active = max(1, (ctx + splitLen - 1) / splitLen);
  if (FUSED && z >= active) return;
  const int rows = min(qLen * group, DA_ROWS);
  const int* table = blockTables + (long long)seq * maxBlocksPerSeq;
  const long long qStride = (long long)numHeads * HD;
  const long long kvStride = (long long)numKvHeads * HD;  // elements per cache slot

  // Causal positions of this thread's score rows 2tq, 2tq+1 (-1: no such row, all masked).
  const int pos0 = 2 * tq < rows ? ctx - qLen + (2 * tq) / group : -1;
  const int pos1 = 2 * tq + 1 < rows ? ctx - qLen + (2 * tq + 1) / group : -1;

  // Q^T B fragments of row g: words 2h, 2h+1 of chunk c serve k-chunk 2c + h.
  uint4 qb[NC];
  if (g < rows) {
    const bf16_t* qr = q + (qStart + g / group) * qStride + (long long)(kvh * group + g % group) * HD + 8 * tq;
#pragma unroll
    for (int c = 0; c < NC; c++) qb[c] = *reinterpret_cast<const uint4*>(qr + 32 * c);
  } else {
#pragma unroll
    for (int c = 0; c < NC; c++) qb[c] = make_uint4(0u, 0u, 0u, 0u);
  }

  float acc[MT][4];
#pragma unroll
  for (int i = 0; i < MT; i++) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f;
  float m0 = DA_NEG_INF, m1 = DA_NEG_INF, l0 = 0.f, l1 = 0.f;
  const float scaleLog2 = scale * DA_LOG2E;
  const int begin = z * splitLen;
  const int end = min(ctx, begin + splitLen);

  // Keys past the split's end re-read its last key (valid memory) and are masked below. The
  // block ids of the next tile are loaded while this tile's K/V loads are in flight.
  int keyA = min(begin + warp * DA_TILE + g, end - 1), keyB = min(begin + warp * DA_TILE + g + 8, end - 1);
  int blkA = keyA >= 0 ? table[keyA / blockSize] : 0, blkB = keyB >= 0 ? table[keyB / blockSize] : 0;
  for (int k0 = begin + warp * DA_TILE; k0 < end; k0 += DA_WARPS * DA_TILE) {
    const long long slotA = (long long)blkA * blockSize + keyA % blockSize;
    const long long slotB = (long long)blkB * blockSize + keyB % blockSize;
    const long long offA = slotA * kvStride + (long long)kvh * HD + 8 * tq;
    const long long offB = slotB * kvStride + (long long)kvh * HD + 8 * tq;
    uint4 ka[NC], kb[NC], va[NC], vb[NC];
#pragma unroll
    for (int c = 0; c < NC; c++) {
      ka[c] = da_load(kCache + offA + 32 * c);
      kb[c] = da_load(kCache + offB + 32 * c);
    }
#pragma unroll
    for (int c = 0; c < NC; c++) {
      va[c] = da_load(vCache + offA + 32 * c);
      vb[c] = da_load(vCache + offB + 32 * c);
    }
    keyA = min(k0 + DA_WARPS * DA_TILE + g, end - 1);
    keyB = min(k0 + DA_WARPS * DA_TILE + g + 8, end - 1);
    blkA = table[keyA / blockSize];
    blkB = table[keyB / blockSize];

    // S^T: c-fragment s[0] = (key g, row 2tq), s[1] = (key g, row 2tq+1), s[2], s[3]: key g+8.
    float s[4] = {0.f, 0.f, 0.f, 0.f}, s2[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
    for (int c = 0; c < NC; c++) {
      da_mma(s, ka[c].x, kb[c].x, ka[c].y, kb[c].y, qb[c].x, qb[c].y);
      da_mma(s2, ka[c].z, kb[c].z, ka[c].w, kb[c].w, qb[c].z, qb[c].w);
    }
    const int kg = k0 + g, kg8 = kg + 8;
    s[0] = kg < end && kg <= pos0 ? (s[0] + s2[0]) * scaleLog2 : DA_NEG_INF;
    s[1] = kg < end && kg <= pos1 ? (s[1] + s2[1]) * scaleLog2 : DA_NEG_INF;
    s[2] = kg8 < end && kg8 <= pos0 ? (s[2] + s2[2]) * scaleLog2 : DA_NEG_INF;
    s[3] = kg8 < end && kg8 <= pos1 ? (s[3] + s2[3]) * scaleLog2 : DA_NEG_INF;

    // Online softmax (base 2) per row over the tile's 16 keys (lanes of equal tq).
    float t0 = fmaxf(s[0], s[2]), t1 = fmaxf(s[1], s[3]);
#pragma unroll
    for (int x = 4; x < 32; x <<= 1) {
      t0 = fmaxf(t0, __shfl_xor_sync(0xffffffffu, t0, x));
      t1 = fmaxf(t1, __shfl_xor_sync(0xffffffffu, t1, x));
    }
    const float mNew0 = fmaxf(m0, t0), mNew1 = fmaxf(m1, t1);
    // A row with no visible key yet keeps max -inf: subtract 0 so exp2 sees -inf, not NaN.
    const float base0 = mNew0 == DA_NEG_INF ? 0.f : mNew0, base1 = mNew1 == DA_NEG_INF ? 0.f : mNew1;
    const float corr0 = exp2f(m0 - base0), corr1 = exp2f(m1 - base1);
    m0 = mNew0;
    m1 = mNew1;
    const float p00 = exp2f(s[0] - base0), p01 = exp2f(s[1] - base1);
    const float p10 = exp2f(s[2] - base0), p11 = exp2f(s[3] - base1);
    l0 = l0 * corr0 + p00 + p10;
    l1 = l1 * corr1 + p01 + p11;
#pragma unroll
    for (int i = 0; i < MT; i++) {
      acc[i][0] *= corr0;
      acc[i][1] *= corr1;
      acc[i][2] *= corr0;
      acc[i][3] *= corr1;
    }

    // P^T B fragment: (keys 2tq, 2tq+1 | 8 + 2tq, 9 + 2tq; row g).
    const u32 pb0 = da_trans(da_pack(p00, p01));
    const u32 pb1 = da_trans(da_pack(p10, p11));
    // O^T += V^T P^T; m-tile 2c + p takes V words 2p (rows g) and 2p + 1 (rows g + 8).
#pragma unroll
    for (int c = 0; c < NC; c++) {
      da_mma(acc[2 * c], da_trans(va[c].x), da_trans(va[c].y), da_trans(vb[c].x), da_trans(vb[c].y), pb0, pb1);
      da_mma(acc[2 * c + 1], da_trans(va[c].z), da_trans(va[c].w), da_trans(vb[c].z), da_trans(vb[c].w), pb0, pb1);
    }
  }

  // The warp's sums over its keys (lanes of equal tq), then the merge of the 4 warps.
#pragma unroll
  for (int x = 4; x < 32; x <<= 1) {
    l0 += __shfl_xor_sync(0xffffffffu, l0, x);
    l1 += __shfl_xor_sync(0xffffffffu, l1, x);
  }
  if (g == 0) {
    smM[warp][2 * tq] = m0;
    smM[warp][2 * tq + 1] = m1;
    smL[warp][2 * tq] = l0;
    smL[warp][2 * tq + 1] = l1;
  }
#pragma unroll
  for (int c = 0; c < NC; c++) {
#pragma unroll
    for (int p = 0; p < 2; p++) {
      const int d0 = 32 * c + 8 * (g >> 1) + 4 * p + (g & 1), d1 = d0 + 2;
      const float* a = acc[2 * c + p];
      smAcc[warp][2 * tq][d0] = a[0];
      smAcc[warp][2 * tq + 1][d0] = a[1];
      smAcc[warp][2 * tq][d1] = a[2];
      smAcc[warp][2 * tq + 1][d1] = a[3];
    }
  }
  __syncthreads();
  const bool direct = FUSED ? active == 1 : numSplits == 1;
  for (int idx = threadIdx.x; idx < rows * HD; idx += blockDim.x) {
    const int r = idx / HD, d = idx % HD;
    float mMax = DA_NEG_INF;
#pragma unroll
    for (int w = 0; w < DA_WARPS; w++) mMax = fmaxf(mMax, smM[w][r]);
    float l = 0.f, a = 0.f;
    if (mMax != DA_NEG_INF) {
#pragma unroll
      for (int w = 0; w < DA_WARPS; w++) {
        const float wt = exp2f(smM[w][r] - mMax);
        l += smL[w][r] * wt;
        a += smAcc[w][r][d] * wt;
      }
    }
    const long long t = qStart + r / group;
    const int h = kvh * group + r % group;
    if (direct) {
      out[(t * numHeads + h) * HD + d] = f32_to_bf16(l > 0.f ? a / l : 0.f);
    } else {
      float* part = partial + ((t * numHeads + h) * numSplits + z) * (HD + 2);
      if (d == 0) {
        part[0] = mMax * DA_LN2;
        part[1] = l;
      }
      part[2 + d] = a;
    }
  }
  if (!FUSED || direct) return;

  // Fused combine: the last of the `active` split CTAs merges them all.
  __shared__ int isLast;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) {
    int* counter = counters + seq * numKvHeads + kvh;
    isLast = atomicAdd(counter, 1) == active - 1;
    if (isLast) *counter = 0;  // ready for the next launch (stream-ordered after this one)
  }
  __syncthreads();
  if (!isLast) return;
  __threadfence();
  // weight[r][z] = exp(m_z - M) / L per row, in smAcc (free now).
  static_assert(DA_WARPS * HD >= DA_MAX_SPLITS, "smAcc holds the combine weights");
  float* weight = &smAcc[0][0][0];
  for (int r = warp; r < rows; r += DA_WARPS) {
    const long long t = qStart + r / group;
    const int h = kvh * group + r % group;
    const float* base = partial + (t * numHeads + h) * numSplits * (HD + 2);
    float mMax = DA_NEG_INF;
    for (int zz = lane; zz < active; zz += 32) mMax = fmaxf(mMax, da_load_cg(base + zz * (HD + 2)));
    mMax = warp_max(mMax);
    float l = 0.f;
    for (int zz = lane; zz < active; zz += 32) {
      const float* part = base + zz * (HD + 2);
      const float w = expf(da_load_cg(part) - mMax);  // split 0 sees key 0: mMax is finite
      weight[r * DA_MAX_SPLITS + zz] = w;
      l += da_load_cg(part + 1) * w;
    }
    l = warp_sum(l);
    const float inv = l > 0.f ? 1.f / l : 0.f;
    for (int zz = lane; zz < active; zz += 32) weight[r * DA_MAX_SPLITS + zz] *= inv;
  }
  __syncthreads();
  for (int idx = threadIdx.x; idx < rows * HD; idx += blockDim.x) {
    const int r = idx / HD, d = idx % HD;
    const long long t = qStart + r / group;
    const int h = kvh * group + r % group;
    const float* base = partial + (t * numHeads + h) * numSplits * (HD + 2) + 2 + d;
    const float* w = weight + r * DA_MAX_SPLITS;
    float a = 0.f;
#pragma unroll 8
    for (int zz = 0; zz < active; zz++) a += w[zz] * da_load_cg(base + zz * (HD + 2));
    out[(t * numHeads + h) * HD + d] = f32_to_bf16(a);
  }
}

// grid (numSeqs, numKvHeads, numSplits), block 128, numSplits <= DA_MAX_SPLITS (256). Keys [z * splitLen,
// (z + 1) * splitLen) of each sequence go to split z. Unfused, a split past a sequence's
// context writes an empty partial for attention_combine; counters is unused (null).
#define DECODE_ARGS                                                                                                \
  bf16_t *out, float *partial, int *counters, const bf16_t *q, const bf16_t *kCache, const bf16_t *vCache,         \
      const int *queryStarts, const int *contextLens, const int *blockTables, int maxBlocksPerSeq, int blockSize,  \
      int numHeads, int numKvHeads, float scale, int splitLen
#define DECODE_CALL(HD, FUSED)                                                                                         \
  decode_attention<HD, FUSED>(out, partial, counters, q, kCache, vCache, queryStarts, contextLens, blockTables,      \
                              maxBlocksPerSeq, blockSize, numHeads, numKvHeads, scale, splitLen)
extern "C" __global__ void __launch_bounds__(128, 4) decode_attention_hd128(DECODE_ARGS) { pdl_entry(); DECODE_CALL(128, false); }
extern "C" __global__ void __launch_bounds__(128, 4) decode_attention_hd64(DECODE_ARGS) { pdl_entry(); DECODE_CALL(64, false); }
extern "C" __global__ void __launch_bounds__(128, 4) decode_attention_fused_hd128(DECODE_ARGS) { pdl_entry(); DECODE_CALL(128, true); }
extern "C" __global__ void __launch_bounds__(128, 4) decode_attention_fused_hd64(DECODE_ARGS) { pdl_entry(); DECODE_CALL(64, true); }
