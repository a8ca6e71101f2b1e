// The gated activation's element rule, shared by siluAndMul's kernels (activation.cu) and the
// FP8 GEMV that computes gate and up itself (fp8_gemv.cu): bf16 in, f32 math, bf16 out.
#pragma once
#include "common.cuh"

__device__ __forceinline__ bf16_t silu_mul(float g, float u) {
  // transformers rounds silu(g) to bf16 before the product.
  const float sg = bf16_to_f32(f32_to_bf16(g / (1.0f + expf(-g))));
  return f32_to_bf16(sg * u);
}
