// Gated and plain activations on bf16, computed in f32 and rounded once.
#include "common.cuh"

// out [n, d] = silu(x[:, :d]) * x[:, d:], x [n, 2d]; grid-stride over n*d.
extern "C" __global__ void silu_and_mul_bf16(bf16_t* out, const bf16_t* x, int d, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    const long long row = i / d, c = i % d;
    const float g = bf16_to_f32(x[row * 2 * d + c]);
    const float u = bf16_to_f32(x[row * 2 * d + d + c]);
    // transformers rounds silu(g) to bf16 before the product.
    const float sg = bf16_to_f32(f32_to_bf16(g / (1.0f + expf(-g))));
    out[i] = f32_to_bf16(sg * u);
  }
}

// Exact (erf) GELU: out = x * (1 + erf(x / sqrt 2)) / 2.
extern "C" __global__ void gelu_bf16(bf16_t* out, const bf16_t* x, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    const float v = bf16_to_f32(x[i]);
    out[i] = f32_to_bf16(0.5f * v * (1.0f + erff(v * 0.70710678118654752f)));
  }
}
