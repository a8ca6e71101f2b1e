// Flash attention on tensor cores (mma.sync m16n8k16, bf16 in, f32 accumulate) for head dims
// 64 and 128, FA2-style: one CTA of WARPS warps takes WARPS * 16 query rows of one head (16 rows
// per warp) and walks the keys in tiles of 64 with an online softmax, so scores never reach
// device memory. K/V tiles stream through a 2-stage shared-memory ring by cp.async (tile t + 1
// loads while tile t computes); Q is staged once through shared memory; every fragment comes
// from ldmatrix (K non-transposed, V transposed) over rows padded by 8 halves, which puts the 8
// rows of each 8x8 matrix in distinct bank groups.
//   paged:  causal prefill chunks over the paged KV cache (query row i of sequence s sits at
//           position contextLens[s] - queryLen(s) + i and sees keys 0..that), GQA. Only the
//           tiles that cross a warp's diagonal (or the context end) run the mask code; tiles
//           wholly past a warp's last row are skipped by that warp.
//   dense:  the vision encoder's block-diagonal attention: rows of image i see all keys of
//           image i and nothing else; q, k, v [numPatches, numHeads*HD].
// Grid (numHeads, query tiles, sequences or images); the query tile is gridDim.y - 1 -
// blockIdx.y so the late (heaviest, causal) tiles of every head are dispatched first.
// Dynamic shared memory: (WARPS * 16 + 4 * 64) * (HD + 8) * 2 bytes (Q, then 2 stages of K, V).
// Checked against the warp-per-row kernels (paged_attention.cu, vision_attention.cu) and a
// float64 reference by test/backend/cuda/flashAttention.cuda.test.ts.
#include "common.cuh"

#define TILE_K 64
#define NEG_INF_F (-__int_as_float(0x7f800000))

__device__ __forceinline__ void mma_bf16(float* c, const u32* a, const u32* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ u32 smem_addr(const void* p) {
  u32 a;
  asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
  return a;
}

__device__ __forceinline__ void ldmatrix_x4(u32* r, u32 addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

__device__ __forceinline__ void ldmatrix_x4_trans(u32* r, u32 addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(addr));
}

// 16 bytes global -> shared, bypassing L1; valid false writes 16 zero bytes (src-size 0 reads
// nothing, but src must still be a global address).
__device__ __forceinline__ void cp_async16(u32 dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }

__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ u32 pack_bf16(float lo, float hi) {
  return (u32)f32_to_bf16(lo) | ((u32)f32_to_bf16(hi) << 16);
}

template <int HD, int WARPS, bool PAGED>
__device__ __forceinline__ void flash_attention(bf16_t* out, const bf16_t* q, const bf16_t* kSrc, const bf16_t* vSrc,
                                                const int* starts, const int* contextLens, const int* blockTables,
                                                int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads,
                                                float scale) {
  constexpr int TQ = WARPS * 16;                     // query rows per CTA
  constexpr int RS = HD + 8;                         // shared row stride (halves)
  constexpr int CHUNKS = HD / 8;                     // 16-byte chunks per row
  constexpr int ROWS_PER_PASS = WARPS * 32 / CHUNKS;  // rows one pass of the CTA copies
  static_assert(TILE_K % ROWS_PER_PASS == 0 && TQ % ROWS_PER_PASS == 0, "copy passes must tile the rows");
  extern __shared__ __align__(16) unsigned char smemRaw[];
  bf16_t* Qs = reinterpret_cast<bf16_t*>(smemRaw);  // [TQ][RS]
  bf16_t* KVs = Qs + TQ * RS;                        // [stage 2][K, V][TILE_K][RS]

  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int g = lane >> 2, tq = lane & 3;
  const int h = blockIdx.x, seq = blockIdx.z;
  const int qStart = starts[seq];
  const int qLen = starts[seq + 1] - qStart;
  const int row0 = (gridDim.y - 1 - blockIdx.y) * TQ;
  if (row0 >= qLen) return;
  const int kvh = PAGED ? h / (numHeads / numKvHeads) : h;
  const int kvHeads = PAGED ? numKvHeads : numHeads;
  const int ctx = PAGED ? contextLens[seq] : qLen;
  const int posBase = PAGED ? ctx - qLen : 0;  // position of query row 0
  const int* table = PAGED ? blockTables + (long long)seq * maxBlocksPerSeq : nullptr;
  const int lastRow = min(qLen, row0 + TQ) - 1;
  const int keyEnd = PAGED ? posBase + lastRow + 1 : qLen;
  const int numTiles = (keyEnd + TILE_K - 1) / TILE_K;
  const long long qStride = (long long)numHeads * HD;

  // The copy layout: this thread moves 16-byte chunk `chunk` of rows copyRow + i * ROWS_PER_PASS.
  const int chunk = tid % CHUNKS, copyRow = tid / CHUNKS;
#pragma unroll
  for (int r = copyRow; r < TQ; r += ROWS_PER_PASS) {
    const int qr = row0 + r;
    const bool ok = qr < qLen;
    const bf16_t* src = ok ? q + (qStart + (long long)qr) * qStride + h * HD + chunk * 8 : q;
    cp_async16(smem_addr(Qs + r * RS + chunk * 8), src, ok);
  }
  // Paged: the cache block of each row this thread copies for a coming tile, read from the
  // block table one tile ahead so the table's latency hides behind a tile of compute (the
  // value is consumed only by the next loadKV).
  constexpr int COPY_ROWS = TILE_K / ROWS_PER_PASS;
  int blk[COPY_ROWS];
  auto fetchBlocks = [&](int k0) {
#pragma unroll
    for (int i = 0; i < COPY_ROWS; i++) {
      const int key = k0 + copyRow + i * ROWS_PER_PASS;
      blk[i] = PAGED && key < keyEnd ? table[key / blockSize] : 0;
    }
  };
  // K/V rows of key tile k0 into ring stage `stage`; keys past keyEnd read as 0 (P is 0 there,
  // and 0 * garbage could be NaN). The cache address is computed once per row.
  auto loadKV = [&](int k0, int stage) {
    bf16_t* Kd = KVs + stage * 2 * TILE_K * RS;
    bf16_t* Vd = Kd + TILE_K * RS;
#pragma unroll
    for (int i = 0; i < COPY_ROWS; i++) {
      const int r = copyRow + i * ROWS_PER_PASS;
      const int key = k0 + r;
      const bool ok = key < keyEnd;
      long long off = 0;
      if (ok) {
        const long long row = PAGED ? (long long)blk[i] * blockSize + key % blockSize : qStart + (long long)key;
        off = (row * kvHeads + kvh) * HD + chunk * 8;
      }
      cp_async16(smem_addr(Kd + r * RS + chunk * 8), kSrc + off, ok);
      cp_async16(smem_addr(Vd + r * RS + chunk * 8), vSrc + off, ok);
    }
  };
  if (PAGED) fetchBlocks(0);
  loadKV(0, 0);
  cp_async_commit();
  if (PAGED && numTiles > 1) fetchBlocks(TILE_K);

  // This warp's rows, and this thread's two (g and g + 8 of the warp's 16) with positions.
  const int wr0 = row0 + warp * 16;
  const bool warpIdle = wr0 >= qLen;
  const int r0 = wr0 + g, r1 = r0 + 8;
  const int pos0 = posBase + r0, pos1 = posBase + r1;
  const int warpFirstPos = posBase + wr0, warpLastPos = posBase + wr0 + 15;

  // ldmatrix lane roles. A (Q): matrix mi = lane / 8 is (rows 0-7 | 8-15) x (dims 0-7 | 8-15)
  // in the order a0..a3. K (B, non-trans): (keys 0-7, dims 0-7), (keys 0-7, dims 8-15), (keys
  // 8-15, dims 0-7), (keys 8-15, dims 8-15) = b0, b1 of key tile j, b0, b1 of key tile j + 1.
  // V (B, trans): (keys 0-7, dims 0-7), (keys 8-15, dims 0-7), (keys 0-7, dims 8-15), (keys
  // 8-15, dims 8-15) = b0, b1 of dim tile j, b0, b1 of dim tile j + 1.
  const int mi = lane >> 3, mr = lane & 7;
  const int qRowOff = (mi & 1) * 8 + mr, qDimOff = (mi >> 1) * 8;
  const int kKeyOff = (mi >> 1) * 8 + mr, kDimOff = (mi & 1) * 8;
  const int vKeyOff = (mi & 1) * 8 + mr, vDimOff = (mi >> 1) * 8;

  u32 qa[HD / 16][4];
  float o[HD / 8][4];
#pragma unroll
  for (int j = 0; j < HD / 8; j++) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
  float m0 = NEG_INF_F, m1 = NEG_INF_F, l0 = 0.f, l1 = 0.f;  // m in scaled log2 units
  const float scaleLog2 = scale * 1.4426950408889634f;

  for (int t = 0; t < numTiles; t++) {
    // Tile t (and, at t = 0, Q) landed for every thread; every warp is done with tile t - 1,
    // whose stage the next loads overwrite.
    cp_async_wait_all();
    __syncthreads();
    if (t == 0) {
#pragma unroll
      for (int kc = 0; kc < HD / 16; kc++) ldmatrix_x4(qa[kc], smem_addr(&Qs[(warp * 16 + qRowOff) * RS + kc * 16 + qDimOff]));
    }
    if (t + 1 < numTiles) {
      loadKV((t + 1) * TILE_K, (t + 1) & 1);
      if (PAGED && t + 2 < numTiles) fetchBlocks((t + 2) * TILE_K);
    }
    cp_async_commit();

    const int k0 = t * TILE_K;
    if (warpIdle || (PAGED && k0 > warpLastPos)) continue;  // no row of this warp sees these keys
    const bf16_t* Ks = KVs + (t & 1) * 2 * TILE_K * RS;
    const bf16_t* Vs = Ks + TILE_K * RS;

    // S = Q K^T for this warp's 16 rows x 64 keys.
    float s[TILE_K / 8][4];
#pragma unroll
    for (int j = 0; j < TILE_K / 8; j++) s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
#pragma unroll
    for (int kc = 0; kc < HD / 16; kc++) {
#pragma unroll
      for (int j = 0; j < TILE_K / 8; j += 2) {
        u32 b[4];
        ldmatrix_x4(b, smem_addr(&Ks[(j * 8 + kKeyOff) * RS + kc * 16 + kDimOff]));
        mma_bf16(s[j], qa[kc], b);
        mma_bf16(s[j + 1], qa[kc], b + 2);
      }
    }

    // Mask (only tiles crossing this warp's diagonal or the key end), then the online softmax
    // in base 2 with the scale folded into one FMA per score.
    if (k0 + TILE_K > keyEnd || (PAGED && k0 + TILE_K - 1 > warpFirstPos)) {
#pragma unroll
      for (int j = 0; j < TILE_K / 8; j++) {
#pragma unroll
        for (int e = 0; e < 2; e++) {
          const int key = k0 + j * 8 + tq * 2 + e;
          if (key >= keyEnd || (PAGED && key > pos0)) s[j][e] = NEG_INF_F;
          if (key >= keyEnd || (PAGED && key > pos1)) s[j][2 + e] = NEG_INF_F;
        }
      }
    }
    float tmax0 = NEG_INF_F, tmax1 = NEG_INF_F;
#pragma unroll
    for (int j = 0; j < TILE_K / 8; j++) {
      tmax0 = fmaxf(tmax0, fmaxf(s[j][0], s[j][1]));
      tmax1 = fmaxf(tmax1, fmaxf(s[j][2], s[j][3]));
    }
#pragma unroll
    for (int x = 1; x < 4; x <<= 1) {
      tmax0 = fmaxf(tmax0, __shfl_xor_sync(0xffffffffu, tmax0, x));
      tmax1 = fmaxf(tmax1, __shfl_xor_sync(0xffffffffu, tmax1, x));
    }
    const float mNew0 = fmaxf(m0, tmax0 * scaleLog2), mNew1 = fmaxf(m1, tmax1 * scaleLog2);
    // A row with no visible key so far keeps max -inf: use 0 so exp2 sees -inf, not NaN.
    const float base0 = mNew0 == NEG_INF_F ? 0.f : mNew0, base1 = mNew1 == NEG_INF_F ? 0.f : mNew1;
    const float corr0 = fast_exp2(m0 - base0), corr1 = fast_exp2(m1 - base1);
    m0 = mNew0;
    m1 = mNew1;
    l0 *= corr0;
    l1 *= corr1;
#pragma unroll
    for (int j = 0; j < HD / 8; j++) {
      o[j][0] *= corr0; o[j][1] *= corr0;
      o[j][2] *= corr1; o[j][3] *= corr1;
    }
    u32 pa[TILE_K / 16][4];
#pragma unroll
    for (int j = 0; j < TILE_K / 8; j++) {
      const float p00 = fast_exp2(fmaf(s[j][0], scaleLog2, -base0)), p01 = fast_exp2(fmaf(s[j][1], scaleLog2, -base0));
      const float p10 = fast_exp2(fmaf(s[j][2], scaleLog2, -base1)), p11 = fast_exp2(fmaf(s[j][3], scaleLog2, -base1));
      l0 += p00 + p01;
      l1 += p10 + p11;
      // S's C layout for key tiles 2kc, 2kc+1 is P's A layout for key chunk kc.
      pa[j / 2][(j & 1) * 2 + 0] = pack_bf16(p00, p01);
      pa[j / 2][(j & 1) * 2 + 1] = pack_bf16(p10, p11);
    }

    // O += P V.
#pragma unroll
    for (int kc = 0; kc < TILE_K / 16; kc++) {
#pragma unroll
      for (int j = 0; j < HD / 8; j += 2) {
        u32 b[4];
        ldmatrix_x4_trans(b, smem_addr(&Vs[(kc * 16 + vKeyOff) * RS + j * 8 + vDimOff]));
        mma_bf16(o[j], pa[kc], b);
        mma_bf16(o[j + 1], pa[kc], b + 2);
      }
    }
  }
  cp_async_wait_all();  // the last (empty) group; nothing may be in flight at exit
  if (warpIdle) return;

#pragma unroll
  for (int x = 1; x < 4; x <<= 1) {
    l0 += __shfl_xor_sync(0xffffffffu, l0, x);
    l1 += __shfl_xor_sync(0xffffffffu, l1, x);
  }
  const float inv0 = l0 > 0.f ? 1.f / l0 : 0.f, inv1 = l1 > 0.f ? 1.f / l1 : 0.f;
  bf16_t* out0 = out + (qStart + (long long)r0) * qStride + h * HD;
  bf16_t* out1 = out + (qStart + (long long)r1) * qStride + h * HD;
#pragma unroll
  for (int j = 0; j < HD / 8; j++) {
    const int d = j * 8 + tq * 2;
    if (r0 < qLen) *reinterpret_cast<u32*>(out0 + d) = pack_bf16(o[j][0] * inv0, o[j][1] * inv0);
    if (r1 < qLen) *reinterpret_cast<u32*>(out1 + d) = pack_bf16(o[j][2] * inv1, o[j][3] * inv1);
  }
}

// Paged causal: grid (numHeads, ceil(maxQueryLen / (WARPS * 16)), numSeqs), block WARPS * 32.
// Suffix _w4: 4 warps (64 query rows per CTA) instead of 8 (128 rows).
#define PAGED_ARGS                                                                                                     \
  bf16_t *out, const bf16_t *q, const bf16_t *kCache, const bf16_t *vCache, const int *queryStarts,                   \
      const int *contextLens, const int *blockTables, int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, \
      float scale
#define PAGED_CALL(HD, W) \
  flash_attention<HD, W, true>(out, q, kCache, vCache, queryStarts, contextLens, blockTables, maxBlocksPerSeq, blockSize, numHeads, numKvHeads, scale)
extern "C" __global__ void __launch_bounds__(256, 1) flash_paged_hd128(PAGED_ARGS) { PAGED_CALL(128, 8); }
extern "C" __global__ void __launch_bounds__(256, 2) flash_paged_hd64(PAGED_ARGS) { PAGED_CALL(64, 8); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_paged_hd128_w4(PAGED_ARGS) { PAGED_CALL(128, 4); }
extern "C" __global__ void __launch_bounds__(128, 4) flash_paged_hd64_w4(PAGED_ARGS) { PAGED_CALL(64, 4); }

// Dense block-diagonal (vision): grid (numHeads, ceil(maxPatches / (WARPS * 16)), numImages).
#define DENSE_ARGS bf16_t *out, const bf16_t *q, const bf16_t *k, const bf16_t *v, const int *patchStarts, int numHeads, float scale
#define DENSE_CALL(HD, W) flash_attention<HD, W, false>(out, q, k, v, patchStarts, nullptr, nullptr, 0, 1, numHeads, numHeads, scale)
extern "C" __global__ void __launch_bounds__(256, 2) flash_dense_hd64(DENSE_ARGS) { DENSE_CALL(64, 8); }
extern "C" __global__ void __launch_bounds__(256, 1) flash_dense_hd128(DENSE_ARGS) { DENSE_CALL(128, 8); }
extern "C" __global__ void __launch_bounds__(128, 4) flash_dense_hd64_w4(DENSE_ARGS) { DENSE_CALL(64, 4); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_dense_hd128_w4(DENSE_ARGS) { DENSE_CALL(128, 4); }
