// Flash attention on tensor cores (mma.sync m16n8k16, bf16 in, f32 accumulate) for head dims
// 64 and 128: one CTA of 4 warps takes 64 query rows of one head (16 rows per warp) and walks
// the keys in tiles of 64 with an online softmax, so scores never reach device memory.
//   paged:  causal prefill chunks over the paged KV cache (query row i of sequence s sits at
//           position contextLens[s] - queryLen(s) + i and sees keys 0..that), GQA.
//   dense:  the vision encoder's block-diagonal attention: rows of image i see all keys of
//           image i and nothing else; q, k, v [numPatches, numHeads*HD].
// Checked against the warp-per-row kernels (paged_attention.cu, vision_attention.cu) and a
// float64 reference by test/backend/cuda/flashAttention.cuda.test.ts.
#include "common.cuh"

#define TILE_Q 64
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

__device__ __forceinline__ u32 pack_bf16(float lo, float hi) {
  return (u32)f32_to_bf16(lo) | ((u32)f32_to_bf16(hi) << 16);
}

template <int HD, bool PAGED, bool VT>
__device__ void flash_attention(bf16_t* out, const bf16_t* q, const bf16_t* kSrc, const bf16_t* vSrc, const int* starts,
                                const int* contextLens, const int* blockTables, int maxBlocksPerSeq, int blockSize,
                                int numHeads, int numKvHeads, float scale) {
  // VT: V stored transposed by plain stores (the first version: its scalar transposing
  // stores conflict 16-way on banks); else V stays row-major like K and its B fragments come
  // from ldmatrix.trans. Both are kept, selectable, and tested.
  constexpr int KS = HD + 8;                 // K / V row stride (halves): conflict-free fragment loads
  constexpr int VS = VT ? TILE_K + 8 : KS;   // V tile row stride
  __shared__ __align__(16) bf16_t Ks[TILE_K * KS];
  __shared__ __align__(16) bf16_t Vt[VT ? HD * VS : TILE_K * VS];

  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int g = lane >> 2, tq = lane & 3;
  const int h = blockIdx.y, seq = blockIdx.z;
  const int qStart = starts[seq];
  const int qLen = starts[seq + 1] - qStart;
  const int row0 = blockIdx.x * TILE_Q;
  if (row0 >= qLen) return;
  const int kvh = PAGED ? h / (numHeads / numKvHeads) : h;
  const int kvHeads = PAGED ? numKvHeads : numHeads;
  const int ctx = PAGED ? contextLens[seq] : qLen;
  const int posBase = PAGED ? ctx - qLen : 0;  // position of query row 0
  const int* table = PAGED ? blockTables + (long long)seq * maxBlocksPerSeq : nullptr;
  const int lastRow = min(qLen, row0 + TILE_Q) - 1;
  const int keyEnd = PAGED ? posBase + lastRow + 1 : qLen;
  const long long qStride = (long long)numHeads * HD;

  // This thread's two rows (g and g + 8 of the warp's 16) and their positions.
  const int r0 = row0 + warp * 16 + g, r1 = r0 + 8;
  const int pos0 = r0 < qLen ? posBase + r0 : -1;
  const int pos1 = r1 < qLen ? posBase + r1 : -1;

  // Q as A fragments, HD/16 chunks of 16 dims.
  u32 qa[HD / 16][4];
  {
    const bf16_t* q0 = q + (qStart + (long long)r0) * qStride + h * HD;
    const bf16_t* q1 = q + (qStart + (long long)r1) * qStride + h * HD;
#pragma unroll
    for (int kc = 0; kc < HD / 16; kc++) {
      const int d = kc * 16 + tq * 2;
      qa[kc][0] = r0 < qLen ? *reinterpret_cast<const u32*>(q0 + d) : 0u;
      qa[kc][1] = r1 < qLen ? *reinterpret_cast<const u32*>(q1 + d) : 0u;
      qa[kc][2] = r0 < qLen ? *reinterpret_cast<const u32*>(q0 + d + 8) : 0u;
      qa[kc][3] = r1 < qLen ? *reinterpret_cast<const u32*>(q1 + d + 8) : 0u;
    }
  }

  float o[HD / 8][4];
#pragma unroll
  for (int j = 0; j < HD / 8; j++) o[j][0] = o[j][1] = o[j][2] = o[j][3] = 0.f;
  float m0 = NEG_INF_F, m1 = NEG_INF_F, l0 = 0.f, l1 = 0.f;
  const float scaleLog2 = scale * 1.4426950408889634f;

  for (int k0 = 0; k0 < keyEnd; k0 += TILE_K) {
    // Load the K tile (row-major) and the V tile (transposed); keys past keyEnd read as 0.
    __syncthreads();
    for (int idx = threadIdx.x; idx < TILE_K * (HD / 8); idx += blockDim.x) {
      const int kk = idx / (HD / 8), c = idx % (HD / 8);
      const int key = k0 + kk;
      uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
      if (key < keyEnd) {
        long long row;
        if (PAGED) {
          const long long slot = (long long)table[key / blockSize] * blockSize + key % blockSize;
          row = (slot * kvHeads + kvh) * HD;
        } else {
          row = ((qStart + (long long)key) * kvHeads + kvh) * HD;
        }
        kv = *reinterpret_cast<const uint4*>(kSrc + row + c * 8);
        vv = *reinterpret_cast<const uint4*>(vSrc + row + c * 8);
      }
      *reinterpret_cast<uint4*>(&Ks[kk * KS + c * 8]) = kv;
      if (VT) {
        const bf16_t* ve = reinterpret_cast<const bf16_t*>(&vv);
#pragma unroll
        for (int e = 0; e < 8; e++) Vt[(c * 8 + e) * VS + kk] = ve[e];
      } else {
        *reinterpret_cast<uint4*>(&Vt[kk * VS + c * 8]) = vv;
      }
    }
    __syncthreads();

    // S = Q K^T for this warp's 16 rows x 64 keys.
    float s[TILE_K / 8][4];
#pragma unroll
    for (int j = 0; j < TILE_K / 8; j++) {
      s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
#pragma unroll
      for (int kc = 0; kc < HD / 16; kc++) {
        u32 b[2];
        const bf16_t* kr = &Ks[(j * 8 + g) * KS + kc * 16 + tq * 2];
        b[0] = *reinterpret_cast<const u32*>(kr);
        b[1] = *reinterpret_cast<const u32*>(kr + 8);
        mma_bf16(s[j], qa[kc], b);
      }
    }

    // Mask (causal / range), then the online softmax in base 2.
    float tmax0 = NEG_INF_F, tmax1 = NEG_INF_F;
#pragma unroll
    for (int j = 0; j < TILE_K / 8; j++) {
#pragma unroll
      for (int e = 0; e < 2; e++) {
        const int key = k0 + j * 8 + tq * 2 + e;
        const bool ok0 = key < keyEnd && (PAGED ? key <= pos0 : pos0 >= 0);
        const bool ok1 = key < keyEnd && (PAGED ? key <= pos1 : pos1 >= 0);
        s[j][e] = ok0 ? s[j][e] * scaleLog2 : NEG_INF_F;
        s[j][2 + e] = ok1 ? s[j][2 + e] * scaleLog2 : NEG_INF_F;
        tmax0 = fmaxf(tmax0, s[j][e]);
        tmax1 = fmaxf(tmax1, s[j][2 + e]);
      }
    }
#pragma unroll
    for (int x = 1; x < 4; x <<= 1) {
      tmax0 = fmaxf(tmax0, __shfl_xor_sync(0xffffffffu, tmax0, x));
      tmax1 = fmaxf(tmax1, __shfl_xor_sync(0xffffffffu, tmax1, x));
    }
    const float mNew0 = fmaxf(m0, tmax0), mNew1 = fmaxf(m1, tmax1);
    // A row with no visible key so far keeps max -inf: use 0 so exp2 sees -inf, not NaN.
    const float base0 = mNew0 == NEG_INF_F ? 0.f : mNew0, base1 = mNew1 == NEG_INF_F ? 0.f : mNew1;
    const float corr0 = exp2f(m0 - base0), corr1 = exp2f(m1 - base1);
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
      const float p00 = exp2f(s[j][0] - base0), p01 = exp2f(s[j][1] - base0);
      const float p10 = exp2f(s[j][2] - base1), p11 = exp2f(s[j][3] - base1);
      l0 += p00 + p01;
      l1 += p10 + p11;
      // S's C layout for key tiles 2kc, 2kc+1 is P's A layout for key chunk kc.
      pa[j / 2][(j & 1) * 2 + 0] = pack_bf16(p00, p01);
      pa[j / 2][(j & 1) * 2 + 1] = pack_bf16(p10, p11);
    }

    // O += P V.
    if (VT) {
#pragma unroll
      for (int j = 0; j < HD / 8; j++) {
#pragma unroll
        for (int kc = 0; kc < TILE_K / 16; kc++) {
          u32 b[2];
          const bf16_t* vr = &Vt[(j * 8 + g) * VS + kc * 16 + tq * 2];
          b[0] = *reinterpret_cast<const u32*>(vr);
          b[1] = *reinterpret_cast<const u32*>(vr + 8);
          mma_bf16(o[j], pa[kc], b);
        }
      }
    } else {
      // ldmatrix.x4.trans over V rows (keys) kc*16.. and dims j*8..j*8+15: matrices
      // (keys 0-7, dims 0-7), (keys 8-15, dims 0-7), (keys 0-7, dims 8-15), (keys 8-15, dims
      // 8-15) give b0, b1 of dim tile j and b0, b1 of dim tile j + 1. Lane l addresses row
      // l % 8 of matrix l / 8.
      const int mi = lane >> 3;
      const int keyOff = (mi & 1) * 8 + (lane & 7), dimOff = (mi >> 1) * 8;
#pragma unroll
      for (int kc = 0; kc < TILE_K / 16; kc++) {
#pragma unroll
        for (int j = 0; j < HD / 8; j += 2) {
          const u32 addr = smem_addr(&Vt[(kc * 16 + keyOff) * VS + j * 8 + dimOff]);
          u32 b[4];
          asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                       : "=r"(b[0]), "=r"(b[1]), "=r"(b[2]), "=r"(b[3]) : "r"(addr));
          mma_bf16(o[j], pa[kc], b);
          mma_bf16(o[j + 1], pa[kc], b + 2);
        }
      }
    }
  }

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

// Paged causal: grid (ceil(maxQueryLen / 64), numHeads, numSeqs), block 128. Suffix _vt: the
// transposed-V variant.
#define PAGED_ARGS                                                                                                     \
  bf16_t *out, const bf16_t *q, const bf16_t *kCache, const bf16_t *vCache, const int *queryStarts,                   \
      const int *contextLens, const int *blockTables, int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, \
      float scale
#define PAGED_CALL(HD, VT) \
  flash_attention<HD, true, VT>(out, q, kCache, vCache, queryStarts, contextLens, blockTables, maxBlocksPerSeq, blockSize, numHeads, numKvHeads, scale)
extern "C" __global__ void __launch_bounds__(128) flash_paged_hd128(PAGED_ARGS) { PAGED_CALL(128, false); }
extern "C" __global__ void __launch_bounds__(128) flash_paged_hd64(PAGED_ARGS) { PAGED_CALL(64, false); }
extern "C" __global__ void __launch_bounds__(128) flash_paged_hd128_vt(PAGED_ARGS) { PAGED_CALL(128, true); }
extern "C" __global__ void __launch_bounds__(128) flash_paged_hd64_vt(PAGED_ARGS) { PAGED_CALL(64, true); }

// Dense block-diagonal (vision): grid (ceil(maxPatches / 64), numHeads, numImages), block 128.
#define DENSE_ARGS bf16_t *out, const bf16_t *q, const bf16_t *k, const bf16_t *v, const int *patchStarts, int numHeads, float scale
#define DENSE_CALL(HD, VT) flash_attention<HD, false, VT>(out, q, k, v, patchStarts, nullptr, nullptr, 0, 1, numHeads, numHeads, scale)
extern "C" __global__ void __launch_bounds__(128) flash_dense_hd64(DENSE_ARGS) { DENSE_CALL(64, false); }
extern "C" __global__ void __launch_bounds__(128) flash_dense_hd128(DENSE_ARGS) { DENSE_CALL(128, false); }
extern "C" __global__ void __launch_bounds__(128) flash_dense_hd64_vt(DENSE_ARGS) { DENSE_CALL(64, true); }
extern "C" __global__ void __launch_bounds__(128) flash_dense_hd128_vt(DENSE_ARGS) { DENSE_CALL(128, true); }
