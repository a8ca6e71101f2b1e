// RoPE's arithmetic, shared by rope.cu and the FP8 GEMV that applies it to the qkv it computes
// (fp8_gemv.cu), so both give the same bits: angles in f32 as transformers computes them, the
// rotation of a (v[i], v[i + hd/2]) pair in f32, rounded to bf16 once.
#pragma once
#include "common.cuh"

// Text RoPE's sine and cosine for pair i of a head of hd dims at position pos.
__device__ __forceinline__ void rope_text_angle(float pos, int i, int hd, float theta, float* s, float* c) {
  const float invFreq = 1.0f / powf(theta, (float)(2 * i) / (float)hd);
  sincosf(pos * invFreq, s, c);
}

// (a, b) turned by the angle of (c, s): a' = a c - b s, b' = b c + a s.
__device__ __forceinline__ void rotate_bf16(bf16_t a, bf16_t b, float c, float s, bf16_t* ra, bf16_t* rb) {
  const float fa = bf16_to_f32(a), fb = bf16_to_f32(b);
  *ra = f32_to_bf16(fa * c - fb * s);
  *rb = f32_to_bf16(fb * c + fa * s);
}
