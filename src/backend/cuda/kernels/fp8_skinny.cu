// FP8 skinny GEMM on the tensor cores, for decode and small batches (m <= 16):
//   y[m, n] = (xq[m, k] · wq[n, k]ᵀ) * (xs[m] * ws[n])
// xq: the activations quantized per token (quantize_row_e4m3's rule, E4M3 codes, f32 scale a
// row xs); wq: the weight's E4M3 codes, f32 scale a row ws. The arithmetic is that of the large-m
// path (per-token quantization + cuBLASLt FP8): exact E4M3 x E4M3 products, summed on the tensor
// cores, the two scales applied once at the end.
//
// Memory-bound on wq (one byte an element, read once); the weight bytes go into the MMA as
// they are, with no conversion (mma.sync m16n8k32 e4m3, sm_89+). A CTA owns 16 rows of W and
// its FS_WARPS warps split k in steps of 64 bytes (warp w: steps w, w + FS_WARPS, ...). Lane
// (g = lane / 4, t = lane % 4) of a step loads the 16-byte chunk t of the step from rows g and
// g + 8 (four lanes read a row's 64 contiguous bytes) and, for token g, the same 16 bytes of xq.
// A dot product may sum k in any order, so the MMA's k index is mapped onto these bytes: bytes
// 0-3 of lane t's chunk are MMA k 4t..4t+3 (A register 0 / B register 0), bytes 4-7 are
// k 16+4t.. (register 2 / 1) of the first MMA; bytes 8-15 the same for the second. A and B
// use the same mapping, so each product pairs w[r, c] with x[i, c].
// Accumulation: each step's two MMAs start from zero and their sum (64 products, inside the
// tensor core) is added into f32 registers, so the tensor core's short accumulator never
// carries a long sum. The warps' partial sums meet in shared memory.
// Requires k % 16 == 0 and 16-byte aligned rows (the backend checks).
#include "common.cuh"

#define FS_WARPS 8

// d += A (16x32 e4m3, row) · B (32x8 e4m3, col), f32 accumulate.
__device__ __forceinline__ void mma_e4m3_m16n8k32(float* d, u32 a0, u32 a1, u32 a2, u32 a3, u32 b0, u32 b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#else
  __trap();  // no FP8 tensor cores before sm_89: the backend never launches this kernel there
#endif
}

// grid (ceil(n / 16), S), block 32 * FS_WARPS. NT: tiles of 8 tokens (m <= 8 * NT). U: steps a
// warp has in flight (4: measured on the H200, 8 was 10-45% slower at every decode shape; the
// registers cost resident CTAs).
// Split-K (gridDim.y = S > 1, for long rows: down's k = 32768 in 320 tiles would leave whole
// SMs idle at the end): CTA (x, s) sums steps [s * per, (s + 1) * per) of tile x, writes its
// unscaled sums to partial[s][token][row] (f32 [S, m, n]), and the tile's last CTA to finish
// (an arrival counter a tile, zero between launches: that CTA resets it) adds the S partials in
// order s = 0..S-1, so the result does not depend on which CTA came last, then scales and
// stores it.
template <int NT, int U, bool F32_OUT>
__device__ void fp8_skinny(void* y, const unsigned char* xq, const float* xs, const unsigned char* w, const float* ws, int m, int n, int k, float* partial,
                           int* arrivals, int preload) {
  __shared__ float part[FS_WARPS][16][8 * NT];
  __shared__ bool lastArrival;
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int g = lane >> 2;
  const int t = lane & 3;
  const int row0 = blockIdx.x * 16;
  const int chunks = k >> 4;
  const int allSteps = (chunks + 3) >> 2;
  const int per = (allSteps + gridDim.y - 1) / gridDim.y;
  const int first = blockIdx.y * per;
  const int steps = min(allSteps, first + per);
  const uint4* wa = reinterpret_cast<const uint4*>(w + (long long)min(row0 + g, n - 1) * k);
  const uint4* wb = reinterpret_cast<const uint4*>(w + (long long)min(row0 + g + 8, n - 1) * k);
  float acc[NT][4];
#pragma unroll
  for (int nt = 0; nt < NT; nt++)
#pragma unroll
    for (int i = 0; i < 4; i++) acc[nt][i] = 0.f;
  const uint4 zero = make_uint4(0, 0, 0, 0);

  // The weight fragments of steps s0, s0 + FS_WARPS, ... (U of them) into ra, rb.
  uint4 ra[U], rb[U];
  auto loadWeights = [&](int s0) {
#pragma unroll
    for (int u = 0; u < U; u++) {
      const int c = (s0 + u * FS_WARPS) * 4 + t;
      ra[u] = c < chunks ? __ldcs(wa + c) : zero;
      rb[u] = c < chunks ? __ldcs(wb + c) : zero;
    }
  };
  // preload: the first weights are read before the wait (common.cuh: weights only, and only
  // when the host knows no weight writer is still running), overlapping the kernel before.
  if (preload) loadWeights(first + warp);
  pdl_wait();
  if (!preload) loadWeights(first + warp);
  const uint4* xr[NT];
  bool hasX[NT];
#pragma unroll
  for (int nt = 0; nt < NT; nt++) {
    const int tok = nt * 8 + g;
    hasX[nt] = tok < m;
    xr[nt] = reinterpret_cast<const uint4*>(xq + (long long)min(tok, m - 1) * k);
  }
  for (int s0 = first + warp; s0 < steps; s0 += FS_WARPS * U) {
#pragma unroll
    for (int u = 0; u < U; u++) {
      if (s0 + u * FS_WARPS >= steps) break;  // the same for the whole warp: MMAs stay converged
      const int c = (s0 + u * FS_WARPS) * 4 + t;
#pragma unroll
      for (int nt = 0; nt < NT; nt++) {
        const uint4 xv = hasX[nt] && c < chunks ? __ldg(xr[nt] + c) : zero;
        float d[4] = {0.f, 0.f, 0.f, 0.f};
        mma_e4m3_m16n8k32(d, ra[u].x, rb[u].x, ra[u].y, rb[u].y, xv.x, xv.y);
        mma_e4m3_m16n8k32(d, ra[u].z, rb[u].z, ra[u].w, rb[u].w, xv.z, xv.w);
#pragma unroll
        for (int i = 0; i < 4; i++) acc[nt][i] += d[i];
      }
    }
    if (s0 + FS_WARPS * U < steps) loadWeights(s0 + FS_WARPS * U);
  }
  // C fragment: d0, d1 = row g, tokens 2t, 2t+1; d2, d3 = row g + 8, the same tokens.
#pragma unroll
  for (int nt = 0; nt < NT; nt++) {
    part[warp][g][nt * 8 + 2 * t] = acc[nt][0];
    part[warp][g][nt * 8 + 2 * t + 1] = acc[nt][1];
    part[warp][g + 8][nt * 8 + 2 * t] = acc[nt][2];
    part[warp][g + 8][nt * 8 + 2 * t + 1] = acc[nt][3];
  }
  __syncthreads();
  const int splits = gridDim.y;
  if (splits > 1) {
    for (int idx = threadIdx.x; idx < 16 * 8 * NT; idx += blockDim.x) {
      const int tok = idx >> 4;
      const int r = idx & 15;
      if (tok >= m || row0 + r >= n) continue;
      float s = 0.f;
#pragma unroll
      for (int wp = 0; wp < FS_WARPS; wp++) s += part[wp][r][tok];
      partial[((long long)blockIdx.y * m + tok) * n + row0 + r] = s;
    }
    __threadfence();
    __syncthreads();
    if (threadIdx.x == 0) {
      lastArrival = atomicAdd(arrivals + blockIdx.x, 1) == splits - 1;
      if (lastArrival) arrivals[blockIdx.x] = 0;
    }
    __syncthreads();
    if (!lastArrival) return;
    __threadfence();
  }
  // Thread -> (token, row): consecutive threads write consecutive rows of a token's output.
  for (int idx = threadIdx.x; idx < 16 * 8 * NT; idx += blockDim.x) {
    const int tok = idx >> 4;
    const int r = idx & 15;
    if (tok >= m || row0 + r >= n) continue;
    float s = 0.f;
    if (splits > 1) {
      for (int sp = 0; sp < splits; sp++) s += __ldcg(partial + ((long long)sp * m + tok) * n + row0 + r);
    } else {
#pragma unroll
      for (int wp = 0; wp < FS_WARPS; wp++) s += part[wp][r][tok];
    }
    s *= xs[tok] * ws[row0 + r];
    if (F32_OUT) static_cast<float*>(y)[(long long)tok * n + row0 + r] = s;
    else static_cast<bf16_t*>(y)[(long long)tok * n + row0 + r] = f32_to_bf16(s);
  }
}

#define FS_ARGS \
  const unsigned char *xq, const float *xs, const unsigned char *w, const float *ws, int m, int n, int k, float *partial, int *arrivals, int preload
#define FP8_SKINNY(NT, M, U)                                                                                      \
  extern "C" __global__ void __launch_bounds__(32 * FS_WARPS) fp8_skinny_m##M##_u##U##_bf16(bf16_t* y, FS_ARGS) { \
    pdl_trigger(); /* fp8_skinny waits, after its weight preload */                                              \
    fp8_skinny<NT, U, false>(y, xq, xs, w, ws, m, n, k, partial, arrivals, preload);                              \
  }                                                                                                               \
  extern "C" __global__ void __launch_bounds__(32 * FS_WARPS) fp8_skinny_m##M##_u##U##_f32(float* y, FS_ARGS) {   \
    pdl_trigger(); /* fp8_skinny waits, after its weight preload */                                              \
    fp8_skinny<NT, U, true>(y, xq, xs, w, ws, m, n, k, partial, arrivals, preload);                               \
  }
FP8_SKINNY(1, 8, 4)
FP8_SKINNY(2, 16, 4)
