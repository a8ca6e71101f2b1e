// The FP8 GEMV (src/backend/cuda/kernels/fp8_gemv.cu) at Mistral Small 3.1's one-token decode
// shapes: the product's instantiations and other (R rows a group of G threads, U chunks in flight)
// shapes of the same template, against a plain grid-stride read of the same bytes (the floor a
// kernel of that size can reach). Each launch reads another copy of the weight, so L2 serves none
// of it; time per launch from events around back-to-back launches. bench/notes/fp8.md, fourth pass.
// Build here (nvcc, no GPU needed) and run the binary on the GPU machine:
//   nvcc -std=c++20 -O3 -arch=sm_90a -I src/backend/cuda/kernels -o fp8_gemv_shapes tools/device/fp8_gemv_shapes.cu
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cuda_runtime.h>
#include "fp8_gemv.cu"
#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("CUDA %s at %d\n", cudaGetErrorString(e), __LINE__); exit(1); } } while (0)

template <int G, int U>
__global__ void __launch_bounds__(256) silu_var(bf16_t* y, FG_ARGS) { pdl_trigger(); fp8_gemv<1, 2, G, U, GEMV_SILU, false>(y, x, w, s, m, n, k, preload); }
template <int R, int G, int U>
__global__ void __launch_bounds__(256) plain_var(bf16_t* y, FG_ARGS) { pdl_trigger(); fp8_gemv<1, R, G, U, GEMV_ROWS, false>(y, x, w, s, m, n, k, preload); }
__global__ void fill_codes(unsigned char* p, long long n, u32 seed) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
    u32 h = (u32)i * 2654435761u ^ seed; h ^= h >> 13; h *= 0x5bd1e995u; h ^= h >> 15; p[i] = (unsigned char)(h & 0xF7u);
  }
}
template <int UNR>
__global__ void __launch_bounds__(256) read_stream(const uint4* p, long long n16, u32* sink) {
  u32 acc = 0;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n16; i += stride * UNR) {
    uint4 v[UNR];
#pragma unroll
    for (int u = 0; u < UNR; u++) v[u] = i + u * stride < n16 ? __ldcs(p + i + u * stride) : make_uint4(0, 0, 0, 0);
#pragma unroll
    for (int u = 0; u < UNR; u++) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
  }
  if (acc == 0x12345678u) sink[0] = acc;
}
static float timeit(int copies, int iters, auto launch) {
  for (int i = 0; i < 3; i++) launch(i % copies);
  cudaEvent_t a, b; CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b));
  CK(cudaEventRecord(a));
  for (int i = 0; i < iters; i++) launch(i % copies);
  CK(cudaEventRecord(b)); CK(cudaEventSynchronize(b));
  float ms; CK(cudaEventElapsedTime(&ms, a, b)); CK(cudaGetLastError());
  return ms * 1000.f / iters;
}
int main() {
  struct Shape { const char* name; int n, k; } shapes[] = {{"qkv", 6144, 5120}, {"o_proj", 5120, 4096}, {"gate_up", 65536, 5120}, {"down", 5120, 32768}};
  bf16_t *x, *y; float* sc; u32* sink;
  CK(cudaMalloc(&x, 65536 * 2)); CK(cudaMalloc(&y, 65536 * 4)); CK(cudaMalloc(&sc, 65536 * 4)); CK(cudaMalloc(&sink, 4));
  CK(cudaMemset(x, 0x3c, 65536 * 2)); CK(cudaMemset(sc, 0, 65536 * 4));
  for (auto& s : shapes) {
    const long long bytes = (long long)s.n * s.k;
    const int copies = (int)((1200LL << 20) / bytes) + 1;
    std::vector<unsigned char*> w(copies);
    for (int c = 0; c < copies; c++) { CK(cudaMalloc(&w[c], bytes)); fill_codes<<<1024, 256>>>(w[c], bytes, 100 + c); }
    CK(cudaDeviceSynchronize());
    const int iters = bytes > (100 << 20) ? 60 : 300;
    auto rep = [&](const char* v, float us) { printf("%-8s %-34s %8.2f us %6.0f GB/s\n", s.name, v, us, bytes / us / 1e3); fflush(stdout); };
    rep("read_stream grid 2112", timeit(copies, iters, [&](int c) { read_stream<8><<<2112, 256>>>((const uint4*)w[c], bytes / 16, sink); }));
#define P(NAME, KERNEL, GRID) rep(NAME, timeit(copies, iters, [&](int c) { KERNEL<<<GRID, 256>>>(y, x, w[c], sc, 1, s.n, s.k, 1); }));
    if (s.n != 65536) {
      P("m1_g128 (R2 G128 U2)", fp8_gemv_m1_g128_bf16, s.n / 4)
      P("R2 G32 U4", (plain_var<2, 32, 4>), s.n / 16)
      P("R2 G256 U4", (plain_var<2, 256, 4>), s.n / 2)
      P("R2 G32 U5", (plain_var<2, 32, 5>), s.n / 16)
      P("R2 G32 U8", (plain_var<2, 32, 8>), s.n / 16)
      P("R2 G32 U10", (plain_var<2, 32, 10>), s.n / 16)
      P("R2 G64 U5", (plain_var<2, 64, 5>), s.n / 8)
      P("R2 G128 U3", (plain_var<2, 128, 3>), s.n / 4)
      P("R1 G32 U8", (plain_var<1, 32, 8>), s.n / 8)
      P("R1 G64 U5", (plain_var<1, 64, 5>), s.n / 4)
      P("R2 G256 U8", (plain_var<2, 256, 8>), s.n / 2)
      P("R1 G256 U8", (plain_var<1, 256, 8>), s.n)
      P("R2 G128 U8", (plain_var<2, 128, 8>), s.n / 4)
      P("R4 G256 U4", (plain_var<4, 256, 4>), s.n / 4)
      P("R2 G256 U2", (plain_var<2, 256, 2>), s.n / 2)
    } else {
      P("m1 (R2 G64 U4)", fp8_gemv_m1_bf16, s.n / 8)
      P("silu (G64 U5)", fp8_gemv_silu_m1_bf16, s.n / 2 / 4)
      P("silu G64 U4", (silu_var<64, 4>), s.n / 2 / 4)
      P("silu G32 U4", (silu_var<32, 4>), s.n / 2 / 8)
      P("silu G32 U5", (silu_var<32, 5>), s.n / 2 / 8)
      P("silu G32 U10", (silu_var<32, 10>), s.n / 2 / 8)
      P("silu G64 U3", (silu_var<64, 3>), s.n / 2 / 4)
      P("silu G128 U3", (silu_var<128, 3>), s.n / 2 / 2)
      P("silu G32 U2", (silu_var<32, 2>), s.n / 2 / 8)
    }
    for (auto p : w) CK(cudaFree(p));
  }
  return 0;
}
