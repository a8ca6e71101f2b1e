// Flash attention on tensor cores (mma.sync m16n8k16, bf16 in, f32 accumulate) for head dims
// 64 and 128, FA2-style: one CTA takes 128 query rows of one head (8 warps x 16 rows, or 4 warps
// x 32 rows as two m-tiles sharing each K/V fragment) and walks the keys in tiles of 64 (32 in
// the _w4k32 variant) with an online softmax, so scores never reach device memory. K/V tiles
// stream through a 2-stage shared-memory ring by cp.async (tile t + 1
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
// Dynamic shared memory: (128 + 4 * TILE_K) * (HD + 8) * 2 bytes (Q, then 2 stages of K, V).
// Checked against the warp-per-row kernels (paged_attention.cu, vision_attention.cu) and a
// float64 reference by test/backend/cuda/flashAttention.cuda.test.ts.
#include "common.cuh"

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

// Two floats to bf16 (round to nearest even) in one instruction: lo in the low half.
__device__ __forceinline__ u32 pack_bf16(float lo, float hi) {
  u32 r;
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(hi), "f"(lo));
  return r;
}

template <int HD, int WARPS, int MT, int TILE_K, bool PAGED>
__device__ __forceinline__ void flash_attention(bf16_t* out, const bf16_t* q, const bf16_t* kSrc, const bf16_t* vSrc,
                                                const int* starts, const int* contextLens, const int* blockTables,
                                                int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads,
                                                float scale) {
  constexpr int TQ = WARPS * 16 * MT;                // query rows per CTA (MT m-tiles of 16 a warp)
  constexpr int RS = HD + 8;                         // shared row stride (halves)
  constexpr int CHUNKS = HD / 8;                     // 16-byte chunks per row
  constexpr int THREADS = WARPS * 32;
  // The copy layout: each thread moves CPT consecutive chunks of a row (fewer rows per thread,
  // so fewer address computations and block-table entries held), ROWS_PER_PASS rows a pass.
  constexpr int CPT = TILE_K * CHUNKS / THREADS < 4 ? TILE_K * CHUNKS / THREADS : 4;
  constexpr int ROWS_PER_PASS = THREADS / (CHUNKS / CPT);
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

  // This thread copies chunks chunk0 .. chunk0 + CPT - 1 of rows copyRow + i * ROWS_PER_PASS.
  const int chunk0 = (tid % (CHUNKS / CPT)) * CPT, copyRow = tid / (CHUNKS / CPT);
#pragma unroll
  for (int r = copyRow; r < TQ; r += ROWS_PER_PASS) {
    const int qr = row0 + r;
    const bool ok = qr < qLen;
    const bf16_t* src = ok ? q + (qStart + (long long)qr) * qStride + h * HD + chunk0 * 8 : q;
    const u32 dst = smem_addr(Qs + r * RS + chunk0 * 8);
#pragma unroll
    for (int c = 0; c < CPT; c++) cp_async16(dst + c * 16, ok ? src + c * 8 : q, ok);
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
        off = (row * kvHeads + kvh) * HD + chunk0 * 8;
      }
      const u32 kd = smem_addr(Kd + r * RS + chunk0 * 8), vd = smem_addr(Vd + r * RS + chunk0 * 8);
#pragma unroll
      for (int c = 0; c < CPT; c++) {
        cp_async16(kd + c * 16, kSrc + off + c * 8, ok);
        cp_async16(vd + c * 16, vSrc + off + c * 8, ok);
      }
    }
  };
  if (PAGED) fetchBlocks(0);
  loadKV(0, 0);
  cp_async_commit();
  if (PAGED && numTiles > 1) fetchBlocks(TILE_K);

  // This warp's rows: MT m-tiles of 16; this thread's rows are g and g + 8 of each m-tile,
  // indexed rr = 2 * mt + half.
  const int wr0 = row0 + warp * 16 * MT;
  const bool warpIdle = wr0 >= qLen;
  const int warpFirstPos = posBase + wr0, warpLastPos = posBase + wr0 + 16 * MT - 1;

  // ldmatrix lane roles. A (Q): matrix mi = lane / 8 is (rows 0-7 | 8-15) x (dims 0-7 | 8-15)
  // in the order a0..a3. K (B, non-trans): (keys 0-7, dims 0-7), (keys 0-7, dims 8-15), (keys
  // 8-15, dims 0-7), (keys 8-15, dims 8-15) = b0, b1 of key tile j, b0, b1 of key tile j + 1.
  // V (B, trans): (keys 0-7, dims 0-7), (keys 8-15, dims 0-7), (keys 0-7, dims 8-15), (keys
  // 8-15, dims 8-15) = b0, b1 of dim tile j, b0, b1 of dim tile j + 1.
  const int mi = lane >> 3, mr = lane & 7;
  const int qRowOff = (mi & 1) * 8 + mr, qDimOff = (mi >> 1) * 8;
  const int kKeyOff = (mi >> 1) * 8 + mr, kDimOff = (mi & 1) * 8;
  const int vKeyOff = (mi & 1) * 8 + mr, vDimOff = (mi >> 1) * 8;
  // Shared-space byte addresses: Q, and stage 0's K (V follows K; stage 1 is STAGE_BYTES on).
  constexpr u32 STAGE_BYTES = 2 * TILE_K * RS * 2;
  constexpr int PREFETCH = MT == 1 ? 2 : 1;  // ldmatrix steps in flight ahead of the mma consuming them
  const u32 qBase = smem_addr(smemRaw), kBase = qBase + TQ * RS * 2;
  const u32 qLane = qBase + ((warp * 16 * MT + qRowOff) * RS + qDimOff) * 2;  // + (mt * 16 * RS + kc * 16) * 2

  // MT 1: the Q fragments stay in registers; MT 2: re-read from shared memory every tile
  // (registers go to the second m-tile's O and S).
  u32 qa[MT == 1 ? HD / 16 : 1][4];
  float o[MT][HD / 8][4];
#pragma unroll
  for (int mt = 0; mt < MT; mt++)
#pragma unroll
    for (int j = 0; j < HD / 8; j++) o[mt][j][0] = o[mt][j][1] = o[mt][j][2] = o[mt][j][3] = 0.f;
  float mx[2 * MT], l[2 * MT];  // running max (scaled log2 units) and sum per thread row
#pragma unroll
  for (int rr = 0; rr < 2 * MT; rr++) mx[rr] = NEG_INF_F, l[rr] = 0.f;
  const float scaleLog2 = scale * 1.4426950408889634f;

  for (int t = 0; t < numTiles; t++) {
    // Tile t (and, at t = 0, Q) landed for every thread; every warp is done with tile t - 1,
    // whose stage the next loads overwrite.
    cp_async_wait_all();
    __syncthreads();
    if (MT == 1 && t == 0) {
#pragma unroll
      for (int kc = 0; kc < HD / 16; kc++) ldmatrix_x4(qa[kc], qLane + kc * 16 * 2);
    }
    if (t + 1 < numTiles) {
      loadKV((t + 1) * TILE_K, (t + 1) & 1);
      if (PAGED && t + 2 < numTiles) fetchBlocks((t + 2) * TILE_K);
    }
    cp_async_commit();

    const int k0 = t * TILE_K;
    if (warpIdle || (PAGED && k0 > warpLastPos)) continue;  // no row of this warp sees these keys

    // S = Q K^T for this warp's rows x 64 keys. Steps n = (kc, key pair jp): one ldmatrix.x4
    // of K, 2 * MT mma. The asm statements are volatile, so program order is issue order: each
    // step's fragments are loaded PREFETCH steps ahead of their mma (Q's, for MT 2, one dim
    // chunk ahead), hiding the shared-memory latency behind other steps' mma.
    float s[MT][TILE_K / 8][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
      for (int j = 0; j < TILE_K / 8; j++) s[mt][j][0] = s[mt][j][1] = s[mt][j][2] = s[mt][j][3] = 0.f;
    {
      constexpr int JP = TILE_K / 16, STEPS = (HD / 16) * JP;
      const u32 kLane = kBase + (t & 1) * STAGE_BYTES + (kKeyOff * RS + kDimOff) * 2;
      u32 b[PREFETCH + 1][4];
      u32 a[2][MT][4];  // MT 2: Q fragments of dim chunks kc (parity kc & 1)
      if (MT > 1) {
#pragma unroll
        for (int mt = 0; mt < MT; mt++) ldmatrix_x4(a[0][mt], qLane + mt * 16 * RS * 2);
      }
#pragma unroll
      for (int n = 0; n < PREFETCH; n++) ldmatrix_x4(b[n], kLane + ((n % JP) * 16 * RS + (n / JP) * 16) * 2);
#pragma unroll
      for (int n = 0; n < STEPS; n++) {
        const int kc = n / JP, jp = n % JP;
        if (MT > 1 && jp == 0 && kc + 1 < HD / 16) {
#pragma unroll
          for (int mt = 0; mt < MT; mt++) ldmatrix_x4(a[(kc + 1) & 1][mt], qLane + (mt * 16 * RS + (kc + 1) * 16) * 2);
        }
        const int pre = n + PREFETCH;
        if (pre < STEPS) ldmatrix_x4(b[pre % (PREFETCH + 1)], kLane + ((pre % JP) * 16 * RS + (pre / JP) * 16) * 2);
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
          const u32* af = MT == 1 ? qa[kc] : a[kc & 1][mt];
          mma_bf16(s[mt][2 * jp], af, b[n % (PREFETCH + 1)]);
          mma_bf16(s[mt][2 * jp + 1], af, b[n % (PREFETCH + 1)] + 2);
        }
      }
    }

    // Mask (only tiles crossing this warp's diagonal or the key end), then the online softmax
    // in base 2 with the scale folded into one FMA per score.
    const bool masked = k0 + TILE_K > keyEnd || (PAGED && k0 + TILE_K - 1 > warpFirstPos);
    u32 pa[MT][TILE_K / 16][4];
#pragma unroll
    for (int mt = 0; mt < MT; mt++) {
      if (masked) {
        const int pos0 = posBase + wr0 + mt * 16 + g, pos1 = pos0 + 8;
#pragma unroll
        for (int j = 0; j < TILE_K / 8; j++) {
#pragma unroll
          for (int e = 0; e < 2; e++) {
            const int key = k0 + j * 8 + tq * 2 + e;
            if (key >= keyEnd || (PAGED && key > pos0)) s[mt][j][e] = NEG_INF_F;
            if (key >= keyEnd || (PAGED && key > pos1)) s[mt][j][2 + e] = NEG_INF_F;
          }
        }
      }
      float tmax0 = NEG_INF_F, tmax1 = NEG_INF_F;
#pragma unroll
      for (int j = 0; j < TILE_K / 8; j++) {
        tmax0 = fmaxf(tmax0, fmaxf(s[mt][j][0], s[mt][j][1]));
        tmax1 = fmaxf(tmax1, fmaxf(s[mt][j][2], s[mt][j][3]));
      }
#pragma unroll
      for (int x = 1; x < 4; x <<= 1) {
        tmax0 = fmaxf(tmax0, __shfl_xor_sync(0xffffffffu, tmax0, x));
        tmax1 = fmaxf(tmax1, __shfl_xor_sync(0xffffffffu, tmax1, x));
      }
      const float mNew0 = fmaxf(mx[2 * mt], tmax0 * scaleLog2), mNew1 = fmaxf(mx[2 * mt + 1], tmax1 * scaleLog2);
      // A row with no visible key so far keeps max -inf: use 0 so exp2 sees -inf, not NaN.
      const float base0 = mNew0 == NEG_INF_F ? 0.f : mNew0, base1 = mNew1 == NEG_INF_F ? 0.f : mNew1;
      const float corr0 = fast_exp2(mx[2 * mt] - base0), corr1 = fast_exp2(mx[2 * mt + 1] - base1);
      mx[2 * mt] = mNew0;
      mx[2 * mt + 1] = mNew1;
      float sum0 = 0.f, sum1 = 0.f;
#pragma unroll
      for (int j = 0; j < TILE_K / 8; j++) {
        const float p00 = fast_exp2(fmaf(s[mt][j][0], scaleLog2, -base0)), p01 = fast_exp2(fmaf(s[mt][j][1], scaleLog2, -base0));
        const float p10 = fast_exp2(fmaf(s[mt][j][2], scaleLog2, -base1)), p11 = fast_exp2(fmaf(s[mt][j][3], scaleLog2, -base1));
        sum0 += p00 + p01;
        sum1 += p10 + p11;
        // S's C layout for key tiles 2kc, 2kc+1 is P's A layout for key chunk kc.
        pa[mt][j / 2][(j & 1) * 2 + 0] = pack_bf16(p00, p01);
        pa[mt][j / 2][(j & 1) * 2 + 1] = pack_bf16(p10, p11);
      }
      l[2 * mt] = l[2 * mt] * corr0 + sum0;
      l[2 * mt + 1] = l[2 * mt + 1] * corr1 + sum1;
      // Once the rows' maxima settle (most tiles of a long row), no row of the m-tile changes
      // and the HD / 2 multiplies of O are skipped (warp-uniform branch).
      if (__any_sync(0xffffffffu, corr0 != 1.f || corr1 != 1.f)) {
#pragma unroll
        for (int j = 0; j < HD / 8; j++) {
          o[mt][j][0] *= corr0; o[mt][j][1] *= corr0;
          o[mt][j][2] *= corr1; o[mt][j][3] *= corr1;
        }
      }
    }

    // O += P V, steps n = (key chunk kc, dim pair jp) prefetched as above; each V fragment
    // feeds the MT m-tiles.
    {
      constexpr int JP = HD / 16, STEPS = (TILE_K / 16) * JP;
      const u32 vLane = kBase + (t & 1) * STAGE_BYTES + TILE_K * RS * 2 + (vKeyOff * RS + vDimOff) * 2;
      u32 b[PREFETCH + 1][4];
#pragma unroll
      for (int n = 0; n < PREFETCH; n++) ldmatrix_x4_trans(b[n], vLane + ((n / JP) * 16 * RS + (n % JP) * 16) * 2);
#pragma unroll
      for (int n = 0; n < STEPS; n++) {
        const int pre = n + PREFETCH;
        if (pre < STEPS) ldmatrix_x4_trans(b[pre % (PREFETCH + 1)], vLane + ((pre / JP) * 16 * RS + (pre % JP) * 16) * 2);
        const int kc = n / JP, jp = n % JP;
#pragma unroll
        for (int mt = 0; mt < MT; mt++) {
          mma_bf16(o[mt][2 * jp], pa[mt][kc], b[n % (PREFETCH + 1)]);
          mma_bf16(o[mt][2 * jp + 1], pa[mt][kc], b[n % (PREFETCH + 1)] + 2);
        }
      }
    }
  }
  cp_async_wait_all();  // the last (empty) group; nothing may be in flight at exit
  if (warpIdle) return;

#pragma unroll
  for (int rr = 0; rr < 2 * MT; rr++) {
#pragma unroll
    for (int x = 1; x < 4; x <<= 1) l[rr] += __shfl_xor_sync(0xffffffffu, l[rr], x);
  }
#pragma unroll
  for (int rr = 0; rr < 2 * MT; rr++) {
    const int r = wr0 + (rr >> 1) * 16 + (rr & 1) * 8 + g;
    if (r >= qLen) continue;
    const float inv = l[rr] > 0.f ? 1.f / l[rr] : 0.f;
    bf16_t* dst = out + (qStart + (long long)r) * qStride + h * HD + tq * 2;
    const int e = (rr & 1) * 2;
#pragma unroll
    for (int j = 0; j < HD / 8; j++) *reinterpret_cast<u32*>(dst + j * 8) = pack_bf16(o[rr >> 1][j][e] * inv, o[rr >> 1][j][e + 1] * inv);
  }
}

// Every CTA shape takes 128 query rows: 8 warps x 16 rows (no suffix); suffix _w4: 4 warps x 32
// rows (each K/V fragment feeds two m-tiles: half the shared-memory reads per mma); _w4k32: the
// same with key tiles of 32 (half the score registers: no spill at hd 128).
// Paged causal: grid (numHeads, ceil(maxQueryLen / 128), numSeqs), block WARPS * 32.
#define PAGED_ARGS                                                                                                     \
  bf16_t *out, const bf16_t *q, const bf16_t *kCache, const bf16_t *vCache, const int *queryStarts,                   \
      const int *contextLens, const int *blockTables, int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, \
      float scale
#define PAGED_CALL(HD, W, MT, TK) \
  flash_attention<HD, W, MT, TK, true>(out, q, kCache, vCache, queryStarts, contextLens, blockTables, maxBlocksPerSeq, blockSize, numHeads, numKvHeads, scale)
extern "C" __global__ void __launch_bounds__(256, 1) flash_paged_hd128(PAGED_ARGS) { pdl_entry(); PAGED_CALL(128, 8, 1, 64); }
extern "C" __global__ void __launch_bounds__(256, 1) flash_paged_hd64(PAGED_ARGS) { pdl_entry(); PAGED_CALL(64, 8, 1, 64); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_paged_hd128_w4(PAGED_ARGS) { pdl_entry(); PAGED_CALL(128, 4, 2, 64); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_paged_hd64_w4(PAGED_ARGS) { pdl_entry(); PAGED_CALL(64, 4, 2, 64); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_paged_hd128_w4k32(PAGED_ARGS) { pdl_entry(); PAGED_CALL(128, 4, 2, 32); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_paged_hd64_w4k32(PAGED_ARGS) { pdl_entry(); PAGED_CALL(64, 4, 2, 32); }

// Dense block-diagonal (vision): grid (numHeads, ceil(maxPatches / 128), numImages).
#define DENSE_ARGS bf16_t *out, const bf16_t *q, const bf16_t *k, const bf16_t *v, const int *patchStarts, int numHeads, float scale
#define DENSE_CALL(HD, W, MT, TK) flash_attention<HD, W, MT, TK, false>(out, q, k, v, patchStarts, nullptr, nullptr, 0, 1, numHeads, numHeads, scale)
extern "C" __global__ void __launch_bounds__(256, 2) flash_dense_hd64(DENSE_ARGS) { pdl_entry(); DENSE_CALL(64, 8, 1, 64); }
extern "C" __global__ void __launch_bounds__(256, 1) flash_dense_hd128(DENSE_ARGS) { pdl_entry(); DENSE_CALL(128, 8, 1, 64); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_dense_hd64_w4(DENSE_ARGS) { pdl_entry(); DENSE_CALL(64, 4, 2, 64); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_dense_hd128_w4(DENSE_ARGS) { pdl_entry(); DENSE_CALL(128, 4, 2, 64); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_dense_hd64_w4k32(DENSE_ARGS) { pdl_entry(); DENSE_CALL(64, 4, 2, 32); }
extern "C" __global__ void __launch_bounds__(128, 2) flash_dense_hd128_w4k32(DENSE_ARGS) { pdl_entry(); DENSE_CALL(128, 4, 2, 32); }
