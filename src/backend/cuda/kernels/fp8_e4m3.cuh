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
