// FP8 weight skinny GEMM for decode: y[m, n] = (x[m, k] · e4m3(W)[n, k]ᵀ) * scales[n] with
// m <= 16, memory-bound on W (one byte an element): the skinny path on GPUs without FP8 tensor
// cores (fp8_skinny.cu is the default from sm_89). A CTA of 256 threads is 256 / G groups of G
// threads; each group owns R rows of W and its threads split every row's k, interleaved by
// 16-byte chunks (16 codes), UNROLL chunks per row in flight per thread; x (bf16, a few KB a
// row) comes through L1. Products are exact
// (e4m3 value * bf16 value fit f32), sums in f32; the row's scale is applied once at the end,
// from a register. Requires k % 16 == 0 and 16-byte aligned W rows and x (the backend checks).
#include "fp8_e4m3.cuh"

#define FG_UNROLL 4
#define FG_WARPS 8

__device__ __forceinline__ void bf16x8_to_f32(const uint4& u, float* f) {
  const u32 w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int i = 0; i < 4; i++) {
    f[2 * i] = __uint_as_float(w[i] << 16);
    f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
  }
}

// grid (ceil(n / (R * 256 / G))), block 32 * FG_WARPS. M = max rows of x handled by this
// instantiation.
template <int M, int R, int G, bool F32_OUT>
__device__ void fp8_gemv(void* y, const bf16_t* x, const unsigned char* w, const float* scales, int m, int n, int k) {
  __shared__ float part[FG_WARPS][R][M];
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  constexpr int GROUPS = 32 * FG_WARPS / G;
  constexpr int GROUP_WARPS = G / 32;
  const int group = threadIdx.x / G;
  const int t = threadIdx.x % G;
  const int row0 = (blockIdx.x * GROUPS + group) * R;
  const int chunks = k / 16;       // 16-byte chunks of a W row
  const long long xStride = k / 8; // uint4 per x row
  float acc[R][M];
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int i = 0; i < M; i++) acc[r][i] = 0.f;
  const uint4* wr[R];
#pragma unroll
  for (int r = 0; r < R; r++) wr[r] = reinterpret_cast<const uint4*>(w + (long long)min(row0 + r, n - 1) * k);
  const uint4* xr = reinterpret_cast<const uint4*>(x);
  constexpr int STRIDE = G;

  for (int c0 = t; c0 < chunks; c0 += STRIDE * FG_UNROLL) {
    uint4 wv[FG_UNROLL][R];
#pragma unroll
    for (int u = 0; u < FG_UNROLL; u++) {
      const int c = c0 + STRIDE * u;
#pragma unroll
      for (int r = 0; r < R; r++) wv[u][r] = c < chunks ? __ldcs(wr[r] + c) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < FG_UNROLL; u++) {
      const int c = c0 + STRIDE * u;
      if (c >= chunks) break;
      float wf[R][16];
#pragma unroll
      for (int r = 0; r < R; r++) {
        e4m3x4_to_f32(wv[u][r].x, wf[r]);
        e4m3x4_to_f32(wv[u][r].y, wf[r] + 4);
        e4m3x4_to_f32(wv[u][r].z, wf[r] + 8);
        e4m3x4_to_f32(wv[u][r].w, wf[r] + 12);
      }
#pragma unroll
      for (int i = 0; i < M; i++) {
        if (i >= m) break;
        float xf[16];
        bf16x8_to_f32(xr[i * xStride + 2 * c], xf);
        bf16x8_to_f32(xr[i * xStride + 2 * c + 1], xf + 8);
#pragma unroll
        for (int r = 0; r < R; r++)
#pragma unroll
          for (int e = 0; e < 16; e++) acc[r][i] += wf[r][e] * xf[e];
      }
    }
  }
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int i = 0; i < M; i++) {
      const float s = warp_sum(acc[r][i]);
      if (lane == 0) part[warp][r][i] = s;
    }
  __syncthreads();
  if (t < R * M) {
    const int r = t / M;
    const int i = t % M;
    if (i < m && row0 + r < n) {
      float s = 0.f;
#pragma unroll
      for (int wp = 0; wp < GROUP_WARPS; wp++) s += part[group * GROUP_WARPS + wp][r][i];
      s *= scales[row0 + r];
      if (F32_OUT) static_cast<float*>(y)[(long long)i * n + row0 + r] = s;
      else static_cast<bf16_t*>(y)[(long long)i * n + row0 + r] = f32_to_bf16(s);
    }
  }
}

// Rows of W per CTA: 4 while x has few rows; 2 from 8 rows of x on, so that the R x M
// accumulators and R x 16 converted weights stay in registers.
#define FP8_GEMV(M, R, G, SUFFIX)                                                                                                         \
  extern "C" __global__ void __launch_bounds__(256) fp8_gemv_m##M##SUFFIX##_bf16(bf16_t* y, const bf16_t* x, const unsigned char* w, const float* s, int m, int n, int k) { pdl_entry(); \
    fp8_gemv<M, R, G, false>(y, x, w, s, m, n, k);                                                                                \
  }                                                                                                                                 \
  extern "C" __global__ void __launch_bounds__(256) fp8_gemv_m##M##SUFFIX##_f32(float* y, const bf16_t* x, const unsigned char* w, const float* s, int m, int n, int k) { pdl_entry();   \
    fp8_gemv<M, R, G, true>(y, x, w, s, m, n, k);                                                                                 \
  }
FP8_GEMV(1, 4, 256, )
FP8_GEMV(2, 4, 256, )
FP8_GEMV(4, 4, 256, )
FP8_GEMV(8, 2, 256, )
FP8_GEMV(16, 2, 256, )
