// Shared device helpers for every kernel file. No CUDA headers are included, so the same
// source compiles under nvcc (CI) and NVRTC (run time) without an include path.
#pragma once

typedef unsigned short bf16_t;  // bfloat16 bits
typedef unsigned int u32;
typedef unsigned long long u64;

__device__ __forceinline__ float bf16_to_f32(bf16_t x) { return __uint_as_float(((u32)x) << 16); }

// Round to nearest even; NaN stays a (quiet) NaN.
__device__ __forceinline__ bf16_t f32_to_bf16(float f) {
  u32 u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (bf16_t)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (bf16_t)(u >> 16);
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Reduction of one value per thread over the whole block (blockDim.x a multiple of 32, at most
// 1024); every thread gets the result. WARP_OP reduces within a warp; IDENTITY fills the lanes
// past the last warp. Each instantiation has its own shared scratch, so a block_sum and a
// block_max may be called back to back.
template <typename T, T (*WARP_OP)(T)>
__device__ __forceinline__ T block_reduce(T v, T identity) {
  __shared__ T partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  v = WARP_OP(v);
  __syncthreads();
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  v = lane < warps ? partial[lane] : identity;
  return WARP_OP(v);
}

__device__ __forceinline__ float block_sum(float v) { return block_reduce<float, warp_sum>(v, 0.f); }
__device__ __forceinline__ double block_sum_d(double v) { return block_reduce<double, warp_sum_d>(v, 0.0); }
__device__ __forceinline__ float block_max(float v) { return block_reduce<float, warp_max>(v, -__int_as_float(0x7f800000)); }

// Index of the sequence (or image) that owns row t, given prefix sums starts[0..n].
__device__ __forceinline__ int owner_of(const int* starts, int n, int t) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= t) lo = mid; else hi = mid - 1;
  }
  return lo;
}

// Programmatic dependent launch (sm_90+). On Hopper the backend launches every kernel with
// CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION, so a kernel's CTAs may start while the
// kernel before it in the stream is still running. Every __global__ function therefore calls
// pdl_entry() before anything else (test/backend/cuda/kernelLibrary.test.ts checks it):
//   - pdl_trigger (launch_dependents) lets the next kernel's CTAs be scheduled once all of ours
//     are; they then sit in their own wait, so a decode step's kernels launch back to back
//     instead of one launch latency after another;
//   - pdl_wait blocks until every earlier kernel in the stream has completed and its writes are
//     visible. Nothing may be read or written before it. A CTA that returns early must still
//     wait first: if every CTA of a kernel skipped it, the kernel could finish before its
//     predecessor and the next kernel's wait would no longer cover that one.
// The exceptions (fp8_skinny.cu and fp8_gemv.cu, named in the test): a GEMM may load weight
// bytes between the two when the host says no kernel that writes weights can still be running
// (preload).
// Without the launch attribute (earlier GPUs, eager fallbacks) both instructions are no-ops.
__device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
__device__ __forceinline__ void pdl_entry() {
  pdl_trigger();
  pdl_wait();
}
