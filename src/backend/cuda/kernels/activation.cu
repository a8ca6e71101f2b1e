// Gated and plain activations on bf16, computed in f32 and rounded once.
#include "fp8_e4m3.cuh"
#include "activation.cuh"


// out [n, d] = silu(x[:, :d]) * x[:, d:], x [n, 2d]; grid-stride over n*d.
extern "C" __global__ void silu_and_mul_bf16(bf16_t* out, const bf16_t* x, int d, long long count) {
  pdl_entry();
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    const long long row = i / d, c = i % d;
    out[i] = silu_mul(bf16_to_f32(x[row * 2 * d + c]), bf16_to_f32(x[row * 2 * d + d + c]));
  }
}

// The same, one row a block, and each out row quantized for the FP8 linear that reads it next:
// q [n, d] E4M3 codes, scales [n] f32 (quantize_rows_e4m3's rule on the bf16 out, bit-identical
// to a separate pass). grid (n), block 32..1024; d % 8 == 0, 16-byte aligned rows. Rows of up to
// QROW_CACHED chunks of 8 a thread stay in registers between the two (all loads in flight at
// once: a decode step runs this with one block).
extern "C" __global__ void silu_and_mul_q_bf16(bf16_t* out, const bf16_t* x, int d, unsigned char* q, float* scales) {
  pdl_entry();
  const long long row = blockIdx.x;
  const int chunks = d / 8;
  const uint4* gate = reinterpret_cast<const uint4*>(x + row * 2 * d);
  const uint4* up = gate + chunks;
  uint4* orow = reinterpret_cast<uint4*>(out + row * d);
  if (chunks <= QROW_CACHED * (int)blockDim.x) {
    uint4 g[QROW_CACHED], u[QROW_CACHED], v[QROW_CACHED];
#pragma unroll
    for (int j = 0; j < QROW_CACHED; j++) {
      const int c = threadIdx.x + j * blockDim.x;
      g[j] = c < chunks ? gate[c] : make_uint4(0, 0, 0, 0);
      u[j] = c < chunks ? up[c] : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int j = 0; j < QROW_CACHED; j++) {
      const u32 gw[4] = {g[j].x, g[j].y, g[j].z, g[j].w};
      const u32 uw[4] = {u[j].x, u[j].y, u[j].z, u[j].w};
      u32 o[4];
#pragma unroll
      for (int i = 0; i < 4; i++) {
        const bf16_t lo = silu_mul(__uint_as_float(gw[i] << 16), __uint_as_float(uw[i] << 16));
        const bf16_t hi = silu_mul(__uint_as_float(gw[i] & 0xffff0000u), __uint_as_float(uw[i] & 0xffff0000u));
        o[i] = (u32)lo | ((u32)hi << 16);
      }
      v[j] = make_uint4(o[0], o[1], o[2], o[3]);
      const int c = threadIdx.x + j * blockDim.x;
      if (c < chunks) orow[c] = v[j];
    }
    quantize_cached_row_e4m3(q + row * d, scales + row, v, chunks);
    return;
  }
  bf16_t* o = out + row * d;
  const bf16_t* xr = x + row * 2 * d;
  for (int c = threadIdx.x; c < d; c += blockDim.x) o[c] = silu_mul(bf16_to_f32(xr[c]), bf16_to_f32(xr[d + c]));
  __syncthreads();  // the row's other elements were written by other threads
  quantize_row_e4m3(q + row * d, scales + row, o, d);
}

// Exact (erf) GELU: out = x * (1 + erf(x / sqrt 2)) / 2.
extern "C" __global__ void gelu_bf16(bf16_t* out, const bf16_t* x, long long count) {
  pdl_entry();
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    const float v = bf16_to_f32(x[i]);
    out[i] = f32_to_bf16(0.5f * v * (1.0f + erff(v * 0.70710678118654752f)));
  }
}
