// Device-side fills: seeded pseudo-random bf16 values (dummy weights, benchmark inputs) with
// no host transfer.
#include "common.cuh"

__device__ __forceinline__ u32 hash32(u32 h) {
  h ^= h >> 16; h *= 0x7feb352du; h ^= h >> 15; h *= 0x846ca68bu; h ^= h >> 16;
  return h;
}

// out[i] = uniform(-scale, scale) from hash(seed, i); grid-stride over count.
extern "C" __global__ void fill_uniform_bf16(bf16_t* out, long long count, u32 seed, float scale) {
  pdl_entry();
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    const u32 h = hash32(seed ^ hash32((u32)i ^ hash32((u32)(i >> 32) + 0x9e3779b9u)));
    const float u = ((float)(h >> 8) + 0.5f) * (1.0f / 16777216.0f);
    out[i] = f32_to_bf16((2.0f * u - 1.0f) * scale);
  }
}

// The dummy-weight generator of src/model/dummyWeights.ts, bit for bit (see its header):
//   bits = mix32(mix32(i ^ key) + key); s = float((int)(bits >> 8) - 2^23) * 2^-23
//   value = offset + scale * s as two separately rounded f32 ops, stored as bf16 (RNE).
// Element i of the tensor goes to out[i - start] for i in [start, start + count): `out` may be a
// slice of a larger buffer (fused w1|w3). Indices are 32-bit (the generator's definition).
extern "C" __global__ void fill_dummy_bf16(bf16_t* out, long long count, u32 start, u32 key, float scale, float offset) {
  pdl_entry();
  for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < count; j += (long long)gridDim.x * blockDim.x) {
    const u32 i = start + (u32)j;
    const u32 bits = hash32(hash32(i ^ key) + key);
    const float s = (float)((int)(bits >> 8) - 8388608) * 1.1920928955078125e-7f;
    out[j] = f32_to_bf16(__fadd_rn(offset, __fmul_rn(scale, s)));
  }
}
