// OCP FP8 E4M3FN (torch.float8_e4m3fn) on the device: f32 -> E4M3 with round-to-nearest-even
// saturating at ±448, and E4M3 -> f32. sm_89 and later convert in hardware (cvt ... e4m3x2);
// older targets (the CI compile check builds sm_80 too) use the same rounding in integer code.
// Codes: sign bit 7, exponent bits 6..3 (bias 7), mantissa bits 2..0; exponent 0 is subnormal
// (m * 2^-9); 0x7f/0xff are NaN; no infinities.
#pragma once
#include "common.cuh"

#define E4M3_MAX 448.0f

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 890
#define FP8_HW 1
#else
#define FP8_HW 0
#endif

// Two f32 -> two E4M3 codes packed in 16 bits (lo in bits 7..0, hi in bits 15..8), RNE,
// saturating (satfinite: beyond ±448 -> ±448; NaN stays NaN).
__device__ __forceinline__ unsigned short f32x2_to_e4m3x2(float lo, float hi) {
#if FP8_HW
  unsigned short r;
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(r) : "f"(hi), "f"(lo));
  return r;
#else
  unsigned short out = 0;
  const float v[2] = {lo, hi};
#pragma unroll
  for (int i = 0; i < 2; i++) {
    const u32 u = __float_as_uint(v[i]);
    const u32 sign = (u >> 24) & 0x80u;
    const float a = fabsf(v[i]);
    u32 code;
    if (a != a) code = 0x7fu;
    else if (a >= E4M3_MAX) code = 0x7eu;
    else if (a < 0.015625f) {  // subnormal range: multiples of 2^-9 (a * 512 is exact)
      code = (u32)__float2int_rn(a * 512.f);  // rn: ties to even
    } else {
      const u32 exp = ((u >> 23) & 0xffu) - 127u + 7u;
      const u32 man = u & 0x7fffffu;
      u32 r = man >> 20;
      const u32 rem = man & 0xfffffu;
      if (rem > 0x80000u || (rem == 0x80000u && (r & 1u))) r++;
      code = min((exp << 3) + r, 0x7eu);
    }
    out |= (unsigned short)((sign | code) << (8 * i));
  }
  return out;
#endif
}

// Four E4M3 codes (one u32, code i in bits 8i..8i+7) -> four f32, exactly.
__device__ __forceinline__ void e4m3x4_to_f32(u32 w, float* f) {
#if FP8_HW
  u32 h01, h23;
  asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(h01) : "h"((unsigned short)(w & 0xffffu)));
  asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(h23) : "h"((unsigned short)(w >> 16)));
  float a, b, c, d;
  asm("cvt.f32.f16 %0, %1;" : "=f"(a) : "h"((unsigned short)(h01 & 0xffffu)));
  asm("cvt.f32.f16 %0, %1;" : "=f"(b) : "h"((unsigned short)(h01 >> 16)));
  asm("cvt.f32.f16 %0, %1;" : "=f"(c) : "h"((unsigned short)(h23 & 0xffffu)));
  asm("cvt.f32.f16 %0, %1;" : "=f"(d) : "h"((unsigned short)(h23 >> 16)));
  f[0] = a; f[1] = b; f[2] = c; f[3] = d;
#else
  // The 7 magnitude bits placed under f32's exponent field give value * 2^-120 (subnormal
  // codes land on f32 subnormals, exact without flush-to-zero); 2^120 puts it back.
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const u32 b = (w >> (8 * i)) & 0xffu;
    f[i] = __uint_as_float(((b & 0x80u) << 24) | ((b & 0x7fu) << 20)) * 1.329227995784916e36f;
  }
#endif
}

// Quantization of one bf16 row by a whole block (every thread of it must call; blockDim.x a
// multiple of 32, at most 1024): scale = absmax / 448 in f32 (a row of zeros gets scale 1),
// code = e4m3(x / scale) rounded to nearest even, saturating at ±448 (the host's
// quantizeRowsFp8). Rows are handled as 8-element chunks (16 bytes of bf16, 8 bytes of codes);
// chunk c of a row belongs to thread c % blockDim.x.

#define QROW_CACHED 4  // chunks a thread holds in registers (rows up to 4 * 8 * blockDim.x)

__device__ __forceinline__ float absmax_bf16x8(const uint4& v) {
  const u32 w[4] = {v.x, v.y, v.z, v.w};
  float a = 0.f;
#pragma unroll
  for (int i = 0; i < 4; i++) a = fmaxf(a, fmaxf(fabsf(__uint_as_float(w[i] << 16)), fabsf(__uint_as_float(w[i] & 0xffff0000u))));
  return a;
}

// x / scale rounded to nearest, as __fdiv_rn, from recip = RN(1 / scale) without a division per
// element (Markstein: q within an ulp of x / scale, its remainder x - q * scale exact by FMA, and
// q + remainder * recip correctly rounded; Handbook of Floating-Point Arithmetic, thm. 4.10). The
// theorem assumes no underflow: quotients below 2^-12 may differ from __fdiv_rn, but every such
// quotient is E4M3 code 0 either way (the smallest subnormal is 2^-9), so codes are unchanged.
// A scale whose reciprocal overflows (absmax below ~1e-36) takes the IEEE division instead.
struct QuantDivisor {
  float scale;
  float recip;
  bool exactRecip;
};
__device__ __forceinline__ QuantDivisor quant_divisor(float scale) {
  const float r = __frcp_rn(scale);
  return {scale, r, isfinite(r) && r != 0.f};
}
__device__ __forceinline__ float quant_div(float x, const QuantDivisor& d) {
  if (!d.exactRecip) return __fdiv_rn(x, d.scale);
  const float q = x * d.recip;
  return fmaf(fmaf(-q, d.scale, x), d.recip, q);
}

__device__ __forceinline__ uint2 quantize_bf16x8(const uint4& v, const QuantDivisor& d) {
  const u32 w[4] = {v.x, v.y, v.z, v.w};
  u32 packed[2];
#pragma unroll
  for (int h = 0; h < 2; h++) {
    const unsigned short lo = f32x2_to_e4m3x2(quant_div(__uint_as_float(w[2 * h] << 16), d), quant_div(__uint_as_float(w[2 * h] & 0xffff0000u), d));
    const unsigned short hi = f32x2_to_e4m3x2(quant_div(__uint_as_float(w[2 * h + 1] << 16), d), quant_div(__uint_as_float(w[2 * h + 1] & 0xffff0000u), d));
    packed[h] = (u32)lo | ((u32)hi << 16);
  }
  return make_uint2(packed[0], packed[1]);
}

// The row's scale from each thread's partial absmax (the whole block must call): absmax / 448 in
// f32, 1 for a row of zeros; thread 0 stores it to *scale_out.
__device__ __forceinline__ QuantDivisor row_quant_divisor(float amax, float* scale_out) {
  amax = block_max(amax);
  const float scale = amax > 0.f ? __fdiv_rn(amax, E4M3_MAX) : 1.f;
  if (threadIdx.x == 0) *scale_out = scale;
  return quant_divisor(scale);
}

// The row's chunks already in registers (v[j] = chunk threadIdx.x + j * blockDim.x, j <
// QROW_CACHED, chunks past `chunks` ignored): codes to q (8-byte aligned), scale to *scale_out.
__device__ __forceinline__ void quantize_cached_row_e4m3(unsigned char* q, float* scale_out, const uint4* v, int chunks) {
  float amax = 0.f;
#pragma unroll
  for (int j = 0; j < QROW_CACHED; j++)
    if (threadIdx.x + j * blockDim.x < chunks) amax = fmaxf(amax, absmax_bf16x8(v[j]));
  const QuantDivisor div = row_quant_divisor(amax, scale_out);
  uint2* qr = reinterpret_cast<uint2*>(q);
#pragma unroll
  for (int j = 0; j < QROW_CACHED; j++) {
    const int c = threadIdx.x + j * blockDim.x;
    if (c < chunks) qr[c] = quantize_bf16x8(v[j], div);
  }
}

// One row of bf16 x [d] (16-byte aligned, d % 8 == 0) -> codes q [d] and *scale_out. Rows of up
// to QROW_CACHED chunks a thread are read once (all loads in flight together); longer rows
// twice, the second read from L2 (or L1 when this block has just written x).
__device__ __forceinline__ void quantize_row_e4m3(unsigned char* q, float* scale_out, const bf16_t* x, int d) {
  const uint4* xr = reinterpret_cast<const uint4*>(x);
  const int chunks = d / 8;
  if (chunks <= QROW_CACHED * (int)blockDim.x) {
    uint4 v[QROW_CACHED];
#pragma unroll
    for (int j = 0; j < QROW_CACHED; j++) {
      const int c = threadIdx.x + j * blockDim.x;
      v[j] = c < chunks ? xr[c] : make_uint4(0, 0, 0, 0);
    }
    quantize_cached_row_e4m3(q, scale_out, v, chunks);
    return;
  }
  float amax = 0.f;
#pragma unroll 4
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) amax = fmaxf(amax, absmax_bf16x8(xr[c]));
  const QuantDivisor div = row_quant_divisor(amax, scale_out);
  uint2* qr = reinterpret_cast<uint2*>(q);
#pragma unroll 4
  for (int c = threadIdx.x; c < chunks; c += blockDim.x) qr[c] = quantize_bf16x8(xr[c], div);
}
