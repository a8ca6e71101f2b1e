// Per-row dynamic FP8 quantization of bf16 rows: the activations before an FP8 GEMM (per
// token) and dense weights quantized on the device (online FP8, dummy FP8 weights; per output
// channel). Same rule as the host's quantizeRowsFp8: scale = absmax / 448 in f32 (a row of
// zeros gets scale 1), code = e4m3(x / scale) rounded to nearest even, saturating at ±448.
#include "fp8_e4m3.cuh"

// q [rows, d] E4M3 codes, scales [rows] f32, x [rows, d] bf16; d % 8 == 0, 16-byte aligned
// rows. grid (rows), block 32..1024 (a multiple of 32).
extern "C" __global__ void quantize_rows_e4m3(unsigned char* q, float* scales, const bf16_t* x, int d) {
  pdl_entry();
  const long long base = (long long)blockIdx.x * d;
  quantize_row_e4m3(q + base, scales + blockIdx.x, x + base, d);
}

// out [count] bf16 = e4m3(q) * scales[row], row = i / d: dequantization, for tests and for
// running an FP8 weight through a bf16 path. Grid-stride.
extern "C" __global__ void dequantize_rows_e4m3(bf16_t* out, const unsigned char* q, const float* scales, int d, long long count) {
  pdl_entry();
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    float f[4];
    e4m3x4_to_f32(q[i], f);
    out[i] = f32_to_bf16(f[0] * scales[i / d]);
  }
}

// out [m, n] = acc [m, n] * xScales[row] * wScales[col] (f32 products, one rounding to the out
// dtype): the scales of an FP8 GEMM run without them (cuBLASLt's fallback when it has no
// outer-vector-scaled algorithm for a shape). Grid-stride over count = m * n.
extern "C" __global__ void fp8_apply_scales(void* out, int outF32, const float* acc, const float* xScales, const float* wScales, int n, long long count) {
  pdl_entry();
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    const float v = acc[i] * (xScales[i / n] * wScales[i % n]);
    if (outF32) static_cast<float*>(out)[i] = v;
    else static_cast<bf16_t*>(out)[i] = f32_to_bf16(v);
  }
}
