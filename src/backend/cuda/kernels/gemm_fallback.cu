// A plain GEMM for shapes cuBLASLt has no algorithm for (odd leading dimensions):
// y[m, n] = sum_k x[m, k] * w[n, k], bf16 inputs, f32 accumulation, one warp per output.
#include "common.cuh"

// grid (ceil(n / 8), m), block 256 (8 warps).
template <bool F32_OUT>
__device__ void gemm_rowwise(void* y, const bf16_t* x, const bf16_t* w, int n, int k) {
  const int lane = threadIdx.x & 31;
  const int col = blockIdx.x * 8 + (threadIdx.x >> 5);
  const int row = blockIdx.y;
  if (col >= n) return;
  const bf16_t* xr = x + (long long)row * k;
  const bf16_t* wr = w + (long long)col * k;
  float s = 0.f;
  for (int p = lane; p < k; p += 32) s += bf16_to_f32(xr[p]) * bf16_to_f32(wr[p]);
  s = warp_sum(s);
  if (lane == 0) {
    if (F32_OUT) static_cast<float*>(y)[(long long)row * n + col] = s;
    else static_cast<bf16_t*>(y)[(long long)row * n + col] = f32_to_bf16(s);
  }
}

extern "C" __global__ void gemm_rowwise_bf16(bf16_t* y, const bf16_t* x, const bf16_t* w, int n, int k) { pdl_entry(); gemm_rowwise<false>(y, x, w, n, k); }
extern "C" __global__ void gemm_rowwise_f32(float* y, const bf16_t* x, const bf16_t* w, int n, int k) { pdl_entry(); gemm_rowwise<true>(y, x, w, n, k); }
