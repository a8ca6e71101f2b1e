// Device-side fills: seeded pseudo-random bf16 values (dummy weights, benchmark inputs) with
// no host transfer.
#include "common.cuh"

__device__ __forceinline__ u32 hash32(u32 h) {
  h ^= h >> 16; h *= 0x7feb352du; h ^= h >> 15; h *= 0x846ca68bu; h ^= h >> 16;
  return h;
}

// out[i] = uniform(-scale, scale) from hash(seed, i); grid-stride over count.
extern "C" __global__ void fill_uniform_bf16(bf16_t* out, long long count, u32 seed, float scale) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    const u32 h = hash32(seed ^ hash32((u32)i ^ hash32((u32)(i >> 32) + 0x9e3779b9u)));
    const float u = ((float)(h >> 8) + 0.5f) * (1.0f / 16777216.0f);
    out[i] = f32_to_bf16((2.0f * u - 1.0f) * scale);
  }
}
