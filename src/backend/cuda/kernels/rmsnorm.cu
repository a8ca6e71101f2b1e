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

// The same rows held in registers: thread t keeps chunks t, t + blockDim.x, ... (8 bf16 a
// chunk, at most NORM_CACHED of them), so x, the residual and the weight are read once with
// 16-byte loads, all in flight together, and the quantization reads the normed row back from
// registers instead of memory. For rows of d % 8 == 0 (16-byte aligned) up to
// 8 * NORM_CACHED * blockDim.x; the host sizes the block to that (a 5120 row: 160 threads).
// The sum of squares is added in another order than the scalar path's (the last bits of the
// f32 sum may differ); each output element is otherwise the same arithmetic.
#define NORM_CACHED QROW_CACHED  // the normed row goes to quantize_cached_row_e4m3 as it is

__device__ __forceinline__ uint4 add_bf16x8(const uint4& a, const uint4& b) {
  const u32 x[4] = {a.x, a.y, a.z, a.w}, y[4] = {b.x, b.y, b.z, b.w};
  u32 o[4];
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const bf16_t lo = f32_to_bf16(__uint_as_float(x[i] << 16) + __uint_as_float(y[i] << 16));
    const bf16_t hi = f32_to_bf16(__uint_as_float(x[i] & 0xffff0000u) + __uint_as_float(y[i] & 0xffff0000u));
    o[i] = (u32)lo | ((u32)hi << 16);
  }
  return make_uint4(o[0], o[1], o[2], o[3]);
}

__device__ __forceinline__ float sumsq_bf16x8(const uint4& a) {
  const u32 x[4] = {a.x, a.y, a.z, a.w};
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const float lo = __uint_as_float(x[i] << 16), hi = __uint_as_float(x[i] & 0xffff0000u);
    s += lo * lo;
    s += hi * hi;
  }
  return s;
}

// bf16(bf16(v * inv) * w), element by element (rms_norm_row's rounding).
__device__ __forceinline__ uint4 norm_bf16x8(const uint4& a, const uint4& g, float inv) {
  const u32 x[4] = {a.x, a.y, a.z, a.w}, w[4] = {g.x, g.y, g.z, g.w};
  u32 o[4];
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const float nlo = bf16_to_f32(f32_to_bf16(__uint_as_float(x[i] << 16) * inv));
    const float nhi = bf16_to_f32(f32_to_bf16(__uint_as_float(x[i] & 0xffff0000u) * inv));
    const bf16_t lo = f32_to_bf16(nlo * __uint_as_float(w[i] << 16));
    const bf16_t hi = f32_to_bf16(nhi * __uint_as_float(w[i] & 0xffff0000u));
    o[i] = (u32)lo | ((u32)hi << 16);
  }
  return make_uint4(o[0], o[1], o[2], o[3]);
}

// Whether this block's row takes the cached path (the same answer for every thread).
__device__ __forceinline__ bool norm_row_cacheable(const void* out, const void* residual, const void* x, const void* weight, int d) {
  const unsigned long long bits = (unsigned long long)out | (unsigned long long)residual | (unsigned long long)x | (unsigned long long)weight;
  return (d & 7) == 0 && (bits & 15) == 0 && (d >> 3) <= NORM_CACHED * (int)blockDim.x;
}

// ADD: residual += x first (rounded to bf16) and the norm is of the sum. QUANT: also the row's
// E4M3 codes q [d] and scale *scale_out (quantize_row_e4m3's rule, on the bf16 out).
template <bool ADD, bool QUANT>
__device__ __forceinline__ void norm_row_cached(bf16_t* out, bf16_t* residual, const bf16_t* x, const bf16_t* weight, int d, float eps, unsigned char* q, float* scale_out) {
  const long long base = (long long)blockIdx.x * d;
  const int chunks = d >> 3;
  const uint4* xr = reinterpret_cast<const uint4*>(x + base);
  uint4* rr = reinterpret_cast<uint4*>(residual + base);
  const uint4* wr = reinterpret_cast<const uint4*>(weight);
  uint4 v[NORM_CACHED], g[NORM_CACHED];
  const uint4 zero = make_uint4(0, 0, 0, 0);
#pragma unroll
  for (int j = 0; j < NORM_CACHED; j++) {
    const int c = threadIdx.x + j * blockDim.x;
    v[j] = c < chunks ? xr[c] : zero;
    g[j] = c < chunks ? wr[c] : zero;
    if (ADD && c < chunks) v[j] = add_bf16x8(rr[c], v[j]);
  }
  float ss = 0.f;
#pragma unroll
  for (int j = 0; j < NORM_CACHED; j++) {
    const int c = threadIdx.x + j * blockDim.x;
    if (c < chunks) {
      if (ADD) rr[c] = v[j];
      ss += sumsq_bf16x8(v[j]);
    }
  }
  const float inv = rsqrtf(block_sum(ss) / (float)d + eps);
  uint4* orow = reinterpret_cast<uint4*>(out + base);
#pragma unroll
  for (int j = 0; j < NORM_CACHED; j++) {
    const int c = threadIdx.x + j * blockDim.x;
    if (c < chunks) {
      v[j] = norm_bf16x8(v[j], g[j], inv);
      orow[c] = v[j];
    }
  }
  if (QUANT) quantize_cached_row_e4m3(q + base, scale_out, v, chunks);
}

extern "C" __global__ void rms_norm_bf16(bf16_t* out, const bf16_t* x, const bf16_t* weight, int d, float eps) {
  pdl_entry();
  if (norm_row_cacheable(out, out, x, weight, d)) norm_row_cached<false, false>(out, nullptr, x, weight, d, eps, nullptr, nullptr);
  else rms_norm_row(out, x, weight, d, eps);
}
extern "C" __global__ void add_rms_norm_bf16(bf16_t* out, bf16_t* residual, const bf16_t* x, const bf16_t* weight, int d, float eps) {
  pdl_entry();
  if (norm_row_cacheable(out, residual, x, weight, d)) norm_row_cached<true, false>(out, residual, x, weight, d, eps, nullptr, nullptr);
  else add_rms_norm_row(out, residual, x, weight, d, eps);
}
// + q [n, d] E4M3 codes and scales [n] f32 of out; d % 8 == 0 and 16-byte aligned rows.
extern "C" __global__ void rms_norm_q_bf16(bf16_t* out, const bf16_t* x, const bf16_t* weight, int d, float eps, unsigned char* q, float* scales) {
  pdl_entry();
  const long long base = (long long)blockIdx.x * d;
  if (norm_row_cacheable(out, out, x, weight, d)) {
    norm_row_cached<false, true>(out, nullptr, x, weight, d, eps, q, scales + blockIdx.x);
    return;
  }
  rms_norm_row(out, x, weight, d, eps);
  __syncthreads();  // the row's other elements were written by other threads
  quantize_row_e4m3(q + base, scales + blockIdx.x, out + base, d);
}
extern "C" __global__ void add_rms_norm_q_bf16(bf16_t* out, bf16_t* residual, const bf16_t* x, const bf16_t* weight, int d, float eps, unsigned char* q, float* scales) {
  pdl_entry();
  const long long base = (long long)blockIdx.x * d;
  if (norm_row_cacheable(out, residual, x, weight, d)) {
    norm_row_cached<true, true>(out, residual, x, weight, d, eps, q, scales + blockIdx.x);
    return;
  }
  add_rms_norm_row(out, residual, x, weight, d, eps);
  __syncthreads();
  quantize_row_e4m3(q + base, scales + blockIdx.x, out + base, d);
}

// out = a + b over `count` elements; grid-stride.
extern "C" __global__ void add_bf16(bf16_t* out, const bf16_t* a, const bf16_t* b, long long count) {
  pdl_entry();
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    out[i] = f32_to_bf16(bf16_to_f32(a[i]) + bf16_to_f32(b[i]));
  }
}

extern "C" __global__ void add_f32(float* out, const float* a, const float* b, long long count) {
  pdl_entry();
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    out[i] = a[i] + b[i];
  }
}
