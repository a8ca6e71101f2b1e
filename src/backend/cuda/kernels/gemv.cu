// Skinny GEMM for decode: y[m, n] = x[m, k] · W[n, k]^T with m <= 8, memory-bound on W.
// Each warp owns ROWS rows of W and streams them once with 16-byte loads, UNROLL chunks deep
// so several loads per lane are in flight; x (a few KB) comes through L1. f32 accumulation.
// Requires k % 8 == 0 and 16-byte aligned rows (the backend checks and otherwise uses cuBLASLt).
#include "common.cuh"

#define ROWS 2
#define UNROLL 4
#define WARPS_PER_BLOCK 8

__device__ __forceinline__ void bf16x8_to_f32(const uint4& u, float* f) {
  const u32 w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int i = 0; i < 4; i++) {
    f[2 * i] = __uint_as_float(w[i] << 16);
    f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
  }
}

// The shared inner loop: from chunk `first` on, every STRIDE-th 16-byte chunk of R weight rows is
// streamed once (UNROLL loads per row in flight, evict-first), converted to f32 and multiplied
// into acc[r][i] += W[r, chunk] · x[i, chunk] for the m <= M rows of x. Sums run in f32, in chunk
// order, eight products per chunk.
template <int R, int M, int STRIDE>
__device__ __forceinline__ void gemv_accumulate(float (&acc)[R][M], const uint4* const (&wr)[R], const uint4* xr, int m, int chunks, int first) {
  for (int c0 = first; c0 < chunks; c0 += STRIDE * UNROLL) {
    uint4 wv[UNROLL][R];
#pragma unroll
    for (int u = 0; u < UNROLL; u++) {
      const int c = c0 + STRIDE * u;
#pragma unroll
      for (int r = 0; r < R; r++) wv[u][r] = c < chunks ? __ldcs(wr[r] + c) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < UNROLL; u++) {
      const int c = c0 + STRIDE * u;
      if (c >= chunks) break;
      float wf[R][8];
#pragma unroll
      for (int r = 0; r < R; r++) bf16x8_to_f32(wv[u][r], wf[r]);
#pragma unroll
      for (int i = 0; i < M; i++) {
        if (i >= m) break;
        float xf[8];
        bf16x8_to_f32(xr[(long long)i * chunks + c], xf);
#pragma unroll
        for (int r = 0; r < R; r++)
#pragma unroll
          for (int e = 0; e < 8; e++) acc[r][i] += wf[r][e] * xf[e];
      }
    }
  }
}

// grid (ceil(n / (WARPS_PER_BLOCK * ROWS))), block 32 * WARPS_PER_BLOCK. M = max rows of x.
template <int M, bool F32_OUT>
__device__ void gemv(void* y, const bf16_t* x, const bf16_t* w, int m, int n, int k) {
  const int lane = threadIdx.x & 31;
  const int row0 = (blockIdx.x * WARPS_PER_BLOCK + (threadIdx.x >> 5)) * ROWS;
  if (row0 >= n) return;
  const int chunks = k / 8;  // 16-byte chunks per row
  float acc[ROWS][M];
#pragma unroll
  for (int r = 0; r < ROWS; r++)
#pragma unroll
    for (int i = 0; i < M; i++) acc[r][i] = 0.f;
  const uint4* wr[ROWS];
#pragma unroll
  for (int r = 0; r < ROWS; r++) wr[r] = reinterpret_cast<const uint4*>(w + (long long)min(row0 + r, n - 1) * k);
  const uint4* xr = reinterpret_cast<const uint4*>(x);

  gemv_accumulate<ROWS, M, 32>(acc, wr, xr, m, chunks, lane);
#pragma unroll
  for (int r = 0; r < ROWS; r++) {
#pragma unroll
    for (int i = 0; i < M; i++) {
      const float s = warp_sum(acc[r][i]);
      if (lane == 0 && i < m && row0 + r < n) {
        if (F32_OUT) static_cast<float*>(y)[(long long)i * n + row0 + r] = s;
        else static_cast<bf16_t*>(y)[(long long)i * n + row0 + r] = f32_to_bf16(s);
      }
    }
  }
}

#define GEMV(M)                                                                                                   \
  extern "C" __global__ void __launch_bounds__(256) gemv_m##M##_bf16(bf16_t* y, const bf16_t* x, const bf16_t* w, int m, int n, int k) { pdl_entry(); \
    gemv<M, false>(y, x, w, m, n, k);                                                                             \
  }                                                                                                               \
  extern "C" __global__ void __launch_bounds__(256) gemv_m##M##_f32(float* y, const bf16_t* x, const bf16_t* w, int m, int n, int k) { pdl_entry();   \
    gemv<M, true>(y, x, w, m, n, k);                                                                              \
  }
GEMV(1)
GEMV(2)
GEMV(4)
GEMV(8)

// Split-K variant for narrow matrices (the decode shapes qkv [6144, 5120], o_proj [5120, 4096],
// down [5120, 32768]): each CTA owns SK_ROWS rows and its 8 warps split every row's k,
// interleaved by 32-lane chunks, then reduce through shared memory. gemv's warps each stream
// whole rows, so a narrow matrix gives few, long chains of dependent loads; here there are
// n / SK_ROWS CTAs of short chains. grid (ceil(n / SK_ROWS)), block 32 * WARPS_PER_BLOCK.
#define SK_ROWS 4

template <int M, bool F32_OUT>
__device__ void gemv_splitk(void* y, const bf16_t* x, const bf16_t* w, int m, int n, int k) {
  __shared__ float part[WARPS_PER_BLOCK][SK_ROWS][M];
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int row0 = blockIdx.x * SK_ROWS;
  const int chunks = k / 8;
  float acc[SK_ROWS][M];
#pragma unroll
  for (int r = 0; r < SK_ROWS; r++)
#pragma unroll
    for (int i = 0; i < M; i++) acc[r][i] = 0.f;
  const uint4* wr[SK_ROWS];
#pragma unroll
  for (int r = 0; r < SK_ROWS; r++) wr[r] = reinterpret_cast<const uint4*>(w + (long long)min(row0 + r, n - 1) * k);
  const uint4* xr = reinterpret_cast<const uint4*>(x);

  gemv_accumulate<SK_ROWS, M, 32 * WARPS_PER_BLOCK>(acc, wr, xr, m, chunks, warp * 32 + lane);
#pragma unroll
  for (int r = 0; r < SK_ROWS; r++)
#pragma unroll
    for (int i = 0; i < M; i++) {
      const float s = warp_sum(acc[r][i]);
      if (lane == 0) part[warp][r][i] = s;
    }
  __syncthreads();
  if (threadIdx.x < SK_ROWS * M) {
    const int r = threadIdx.x / M;
    const int i = threadIdx.x % M;
    if (i < m && row0 + r < n) {
      float s = 0.f;
#pragma unroll
      for (int wp = 0; wp < WARPS_PER_BLOCK; wp++) s += part[wp][r][i];
      if (F32_OUT) static_cast<float*>(y)[(long long)i * n + row0 + r] = s;
      else static_cast<bf16_t*>(y)[(long long)i * n + row0 + r] = f32_to_bf16(s);
    }
  }
}

#define GEMV_SK(M)                                                                                                  \
  extern "C" __global__ void __launch_bounds__(256) gemv_sk_m##M##_bf16(bf16_t* y, const bf16_t* x, const bf16_t* w, int m, int n, int k) { pdl_entry(); \
    gemv_splitk<M, false>(y, x, w, m, n, k);                                                                        \
  }                                                                                                                 \
  extern "C" __global__ void __launch_bounds__(256) gemv_sk_m##M##_f32(float* y, const bf16_t* x, const bf16_t* w, int m, int n, int k) { pdl_entry();   \
    gemv_splitk<M, true>(y, x, w, m, n, k);                                                                         \
  }
GEMV_SK(1)
GEMV_SK(2)
