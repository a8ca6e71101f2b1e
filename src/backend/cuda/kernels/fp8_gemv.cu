// FP8 weight GEMV for decode: y[m, n] = (x[m, k] · e4m3(W)[n, k]ᵀ) * scales[n] with m <= 16 and
// bf16 x, memory-bound on W (one byte an element). The default for one decode token on every GPU
// (no activation quantization: closer to bf16 than W8A8, and no quantization pass), and the skinny
// path for m <= 16 on GPUs without FP8 tensor cores (fp8_skinny.cu from sm_89). A CTA of 256
// threads is 256 / G groups of G threads; each group owns R rows of W and its threads split
// every row's k, interleaved by 16-byte chunks (16 codes), U chunks per row in flight
// per thread; x (bf16, a few KB a row) comes through L1. Products are exact (e4m3 value * bf16
// value fit f32), sums in f32; the row's scale is applied once at the end, from a register.
// Requires k % 16 == 0 and 16-byte aligned W rows and x (the backend checks).
#include "fp8_e4m3.cuh"
#include "activation.cuh"
#include "rope.cuh"

#define FG_WARPS 8

__device__ __forceinline__ void bf16x8_to_f32(const uint4& u, float* f) {
  const u32 w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int i = 0; i < 4; i++) {
    f[2 * i] = __uint_as_float(w[i] << 16);
    f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
  }
}

// Which rows of W a group owns and what it writes (Mode):
//   GEMV_ROWS: rows j*R .. j*R+R-1 of W (group j), y[i, row] = sum * scales[row];
//   GEMV_SILU: R = 2, M = 1, W = [gate; up] of 2d rows: rows j and d + j, y[j] =
//     silu_mul(bf16(gate_j), bf16(up_j)) (activation.cuh), the bits siluAndMul writes from the
//     bf16 GEMV output: the fused form of linear + siluAndMul for one decode token.
//   GEMV_ROPE: R = 2, M = 1, W = [Wq; Wk; Wv] (numHeads, numKvHeads heads of hd rows): the pairs
//     of q and k rows that RoPE turns together (i, i + hd/2 of a head; rope.cuh's rotation, as
//     rope.cu applies it, on the bf16 outputs), then v's rows two by two; y = the rotated q|k|v row (what linear +
//     ropeText leave), and k, v also written to the paged cache at slotMapping[0] (writeKv): the
//     fused form of linear + ropeText + writeKv for one decode token.
#define GEMV_ROWS 0
#define GEMV_SILU 1
#define GEMV_ROPE 2

// GEMV_ROPE's operands: positions and slotMapping i32 [1]; caches [numSlots, numKvHeads * hd].
struct RopeKv {
  const int* positions;
  const int* slotMapping;
  bf16_t* kCache;
  bf16_t* vCache;
  int numHeads, numKvHeads, hd;
  float theta;
  long long numSlots;
};

// Rows of W that group j of GEMV_ROPE owns: a (q or k) head's pair i, i + hd/2, or v rows 2v, 2v + 1.
__device__ __forceinline__ void rope_rows(const RopeKv& rk, int j, int& head, int& i, int* row) {
  const int half = rk.hd / 2;
  const int qkPairs = (rk.numHeads + rk.numKvHeads) * half;
  if (j < qkPairs) {
    head = j / half;
    i = j % half;
    row[0] = head * rk.hd + i;
    row[1] = row[0] + half;
  } else {
    head = -1;
    i = 2 * (j - qkPairs);
    row[0] = (rk.numHeads + rk.numKvHeads) * rk.hd + i;
    row[1] = row[0] + 1;
  }
}

// GEMV_ROPE's epilogue for group j: a, b = the bf16 outputs of its two rows.
__device__ __forceinline__ void rope_kv_store(const RopeKv& rk, bf16_t* y, int head, int i, const int* row, bf16_t a, bf16_t b) {
  const int kvWidth = rk.numKvHeads * rk.hd;
  const int slot = rk.slotMapping[0];
  const bool cached = slot >= 0 && slot < rk.numSlots;
  if (head < 0) {  // v rows i, i + 1 of the token's v
    y[row[0]] = a;
    y[row[1]] = b;
    if (cached) {
      rk.vCache[(long long)slot * kvWidth + i] = a;
      rk.vCache[(long long)slot * kvWidth + i + 1] = b;
    }
    return;
  }
  const int half = rk.hd / 2;
  float sn, cs;
  rope_text_angle((float)rk.positions[0], i, rk.hd, rk.theta, &sn, &cs);
  bf16_t ra, rb;
  rotate_bf16(a, b, cs, sn, &ra, &rb);
  y[row[0]] = ra;
  y[row[1]] = rb;
  if (head >= rk.numHeads && cached) {
    const long long at = (long long)slot * kvWidth + (head - rk.numHeads) * rk.hd + i;
    rk.kCache[at] = ra;
    rk.kCache[at + half] = rb;
  }
}

// grid (ceil(rows of W / (R * 256 / G))), block 32 * FG_WARPS. M = max rows of x handled by this
// instantiation. preload: the first weight chunks are loaded before the programmatic-launch wait
// (common.cuh: weights only, and only when the host knows no weight writer is still running).
template <int M, int R, int G, int U, int MODE, bool F32_OUT>
__device__ void fp8_gemv(void* y, const bf16_t* x, const unsigned char* w, const float* scales, int m, int n, int k, int preload, const RopeKv& rk = RopeKv{}) {
  __shared__ float part[FG_WARPS][R][M];
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  constexpr int GROUPS = 32 * FG_WARPS / G;
  constexpr int GROUP_WARPS = G / 32;
  const int group = threadIdx.x / G;
  const int t = threadIdx.x % G;
  const int j = blockIdx.x * GROUPS + group;
  const int half = n / 2;
  int row[R];
  int head = 0, pairIndex = 0;
  if (MODE == GEMV_ROPE) {
    rope_rows(rk, min(j, half - 1), head, pairIndex, row);
  } else {
#pragma unroll
    for (int r = 0; r < R; r++) row[r] = MODE == GEMV_SILU ? min(j, half - 1) + r * half : min(j * R + r, n - 1);
  }
  const int chunks = k / 16;       // 16-byte chunks of a W row
  const uint4* wr[R];
#pragma unroll
  for (int r = 0; r < R; r++) wr[r] = reinterpret_cast<const uint4*>(w + (long long)row[r] * k);
  uint4 wv[U][R];
  auto loadWeights = [&](int c0) {
#pragma unroll
    for (int u = 0; u < U; u++) {
      const int c = c0 + G * u;
#pragma unroll
      for (int r = 0; r < R; r++) wv[u][r] = c < chunks ? __ldcs(wr[r] + c) : make_uint4(0, 0, 0, 0);
    }
  };
  if (preload) loadWeights(t);
  pdl_wait();
  if (!preload) loadWeights(t);
  const long long xStride = k / 8; // uint4 per x row
  const uint4* xr = reinterpret_cast<const uint4*>(x);
  float acc[R][M];
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int i = 0; i < M; i++) acc[r][i] = 0.f;
  for (int c0 = t; c0 < chunks; c0 += G * U) {
#pragma unroll
    for (int u = 0; u < U; u++) {
      const int c = c0 + G * u;
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
    if (c0 + G * U < chunks) loadWeights(c0 + G * U);
  }
#pragma unroll
  for (int r = 0; r < R; r++)
#pragma unroll
    for (int i = 0; i < M; i++) {
      const float s = warp_sum(acc[r][i]);
      if (lane == 0) part[warp][r][i] = s;
    }
  __syncthreads();
  // The sum of row r for x row i: the group's warps in order.
  auto rowSum = [&](int r, int i) {
    float s = 0.f;
#pragma unroll
    for (int wp = 0; wp < GROUP_WARPS; wp++) s += part[group * GROUP_WARPS + wp][r][i];
    return s * scales[row[r]];
  };
  if (MODE == GEMV_SILU || MODE == GEMV_ROPE) {
    if (t == 0 && j < half) {
      const bf16_t a = f32_to_bf16(rowSum(0, 0)), b = f32_to_bf16(rowSum(1, 0));
      if (MODE == GEMV_SILU) static_cast<bf16_t*>(y)[j] = silu_mul(bf16_to_f32(a), bf16_to_f32(b));
      else rope_kv_store(rk, static_cast<bf16_t*>(y), head, pairIndex, row, a, b);
    }
    return;
  }
  if (t < R * M) {
    const int r = t / M;
    const int i = t % M;
    if (i < m && j * R + r < n) {
      const float s = rowSum(r, i);
      if (F32_OUT) static_cast<float*>(y)[(long long)i * n + row[r]] = s;
      else static_cast<bf16_t*>(y)[(long long)i * n + row[r]] = f32_to_bf16(s);
    }
  }
}

// Kernel names: fp8_gemv_m<M><suffix>_<out dtype>; R rows a group of G threads, 256 / G groups a
// CTA, U chunks a row in flight a thread (fp8Linear.ts's GEMV_VARIANTS mirrors these). Measured
// at m = 1 on the H200 (bench/notes/fp8.md, fourth pass): gate_up's many short rows stream at 96%
// of a plain read of the same bytes with 2 rows a group of 64 threads; down's long rows and the
// small o_proj at 98% and 79% with groups of 128 and 2 chunks in flight (fewer rows a CTA: 640
// CTAs of 8 rows filled 1.2 waves of down); from 8 rows of x on, R = 2 keeps R x M accumulators and the
// R x 16 converted weights in registers.
#define FG_ARGS const bf16_t *x, const unsigned char *w, const float *s, int m, int n, int k, int preload
#define FP8_GEMV(M, R, G, U, SUFFIX)                                                                               \
  extern "C" __global__ void __launch_bounds__(256) fp8_gemv_m##M##SUFFIX##_bf16(bf16_t* y, FG_ARGS) {          \
    pdl_trigger(); /* fp8_gemv waits, after its weight preload */                                              \
    fp8_gemv<M, R, G, U, GEMV_ROWS, false>(y, x, w, s, m, n, k, preload);                                          \
  }                                                                                                             \
  extern "C" __global__ void __launch_bounds__(256) fp8_gemv_m##M##SUFFIX##_f32(float* y, FG_ARGS) {            \
    pdl_trigger(); /* fp8_gemv waits, after its weight preload */                                              \
    fp8_gemv<M, R, G, U, GEMV_ROWS, true>(y, x, w, s, m, n, k, preload);                                           \
  }
FP8_GEMV(1, 2, 64, 4, )
FP8_GEMV(1, 2, 128, 2, _g128)
FP8_GEMV(2, 4, 256, 4, )
FP8_GEMV(4, 4, 256, 4, )
FP8_GEMV(8, 2, 256, 4, )
FP8_GEMV(16, 2, 256, 4, )

// act [d] = silu(gate) * up of one decode token, gate | up = x · [Wgate; Wup]ᵀ (W of 2d rows);
// grid (ceil(d / 4)). 5 chunks in flight: one pass over gate_up's 5120-byte rows (96% of a
// plain read against 93% with 4).
extern "C" __global__ void __launch_bounds__(256) fp8_gemv_silu_m1_bf16(bf16_t* y, FG_ARGS) {
  pdl_trigger(); /* fp8_gemv waits, after its weight preload */
  fp8_gemv<1, 2, 64, 5, GEMV_SILU, false>(y, x, w, s, m, n, k, preload);
}

// q|k|v [1, (numHeads + 2 numKvHeads) hd] = x · [Wq; Wk; Wv]ᵀ with RoPE at positions[0], and k, v
// written to the caches at slotMapping[0] (skipped when the slot is -1 or past numSlots), for one
// decode token; grid (ceil(n / 2 / 8)) (groups of 32 threads, a row pair each).
extern "C" __global__ void __launch_bounds__(256) fp8_gemv_rope_m1_bf16(bf16_t* y, FG_ARGS, const int* positions, const int* slotMapping, bf16_t* kCache, bf16_t* vCache,
                                                                     int numHeads, int numKvHeads, int hd, float theta, long long numSlots) {
  pdl_trigger(); /* fp8_gemv waits, after its weight preload */
  fp8_gemv<1, 2, 32, 4, GEMV_ROPE, false>(y, x, w, s, m, n, k, preload, RopeKv{positions, slotMapping, kCache, vCache, numHeads, numKvHeads, hd, theta, numSlots});
}
