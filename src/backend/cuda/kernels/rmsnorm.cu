// RMSNorm, fused residual add + RMSNorm, and the plain add, on bf16 rows.
// RMSNorm as transformers computes it: in f32, x * rsqrt(mean(x^2) + eps), rounded to bf16,
// then multiplied by the weight (and rounded again). The _q variants also quantize each output
// row for an FP8 linear that reads it next (E4M3 codes + one f32 scale a row, the rule of
// quantize_rows_e4m3 applied to the bf16 output, so bit-identical to a separate pass).
#include "fp8_e4m3.cuh"

// out [n, d], x [n, d], weight [d]; grid (n), block 256..1024.
__device__ __forceinline__ void rms_norm_row(bf16_t* out, const bf16_t* x, const bf16_t* weight, int d, float eps) {
  const long long base = (long long)blockIdx.x * d;
  float ss = 0.f;
  for (int c = threadIdx.x; c < d; c += blockDim.x) {
    float v = bf16_to_f32(x[base + c]);
    ss += v * v;
  }
  const float inv = rsqrtf(block_sum(ss) / (float)d + eps);
  for (int c = threadIdx.x; c < d; c += blockDim.x) {
    float normed = bf16_to_f32(f32_to_bf16(bf16_to_f32(x[base + c]) * inv));
    out[base + c] = f32_to_bf16(normed * bf16_to_f32(weight[c]));
  }
}

// residual += x (rounded to bf16, as a bf16 add would), then out = rmsnorm(residual) * weight.
__device__ __forceinline__ void add_rms_norm_row(bf16_t* out, bf16_t* residual, const bf16_t* x, const bf16_t* weight, int d, float eps) {
  const long long base = (long long)blockIdx.x * d;
  float ss = 0.f;
  for (int c = threadIdx.x; c < d; c += blockDim.x) {
    bf16_t s = f32_to_bf16(bf16_to_f32(residual[base + c]) + bf16_to_f32(x[base + c]));
    residual[base + c] = s;
    float v = bf16_to_f32(s);
    ss += v * v;
  }
  const float inv = rsqrtf(block_sum(ss) / (float)d + eps);
  // Each thread re-reads only the elements it wrote itself: no barrier needed.
  for (int c = threadIdx.x; c < d; c += blockDim.x) {
    float normed = bf16_to_f32(f32_to_bf16(bf16_to_f32(residual[base + c]) * inv));
    out[base + c] = f32_to_bf16(normed * bf16_to_f32(weight[c]));
  }
}

extern "C" __global__ void rms_norm_bf16(bf16_t* out, const bf16_t* x, const bf16_t* weight, int d, float eps) {
  rms_norm_row(out, x, weight, d, eps);
}
extern "C" __global__ void add_rms_norm_bf16(bf16_t* out, bf16_t* residual, const bf16_t* x, const bf16_t* weight, int d, float eps) {
  add_rms_norm_row(out, residual, x, weight, d, eps);
}
// + q [n, d] E4M3 codes and scales [n] f32 of out; d % 8 == 0 and 16-byte aligned rows.
extern "C" __global__ void rms_norm_q_bf16(bf16_t* out, const bf16_t* x, const bf16_t* weight, int d, float eps, unsigned char* q, float* scales) {
  rms_norm_row(out, x, weight, d, eps);
  __syncthreads();  // the row's other elements were written by other threads
  const long long base = (long long)blockIdx.x * d;
  quantize_row_e4m3(q + base, scales + blockIdx.x, out + base, d);
}
extern "C" __global__ void add_rms_norm_q_bf16(bf16_t* out, bf16_t* residual, const bf16_t* x, const bf16_t* weight, int d, float eps, unsigned char* q, float* scales) {
  add_rms_norm_row(out, residual, x, weight, d, eps);
  __syncthreads();
  const long long base = (long long)blockIdx.x * d;
  quantize_row_e4m3(q + base, scales + blockIdx.x, out + base, d);
}

// out = a + b over `count` elements; grid-stride.
extern "C" __global__ void add_bf16(bf16_t* out, const bf16_t* a, const bf16_t* b, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    out[i] = f32_to_bf16(bf16_to_f32(a[i]) + bf16_to_f32(b[i]));
  }
}

extern "C" __global__ void add_f32(float* out, const float* a, const float* b, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    out[i] = a[i] + b[i];
  }
}
