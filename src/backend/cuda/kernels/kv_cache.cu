// Writes this step's keys and values into the paged cache by slot mapping.
#include "common.cuh"

// kCache, vCache [numBlocks, blockSize, kvWidth] (kvWidth = numKvHeads*headDim, so slot s is
// row s of the flattened cache); k, v [n, kvWidth]; slotMapping i32 [n], -1 skips.
// grid (n); 16-byte copies when kvWidth is a multiple of 8.
extern "C" __global__ void write_kv_bf16(bf16_t* kCache, bf16_t* vCache, const bf16_t* k, const bf16_t* v, const int* slotMapping, int kvWidth, long long numSlots) {
  pdl_entry();
  const int t = blockIdx.x;
  const int slot = slotMapping[t];
  if (slot < 0 || slot >= numSlots) return;
  const long long dst = (long long)slot * kvWidth, src = (long long)t * kvWidth;
  if ((kvWidth & 7) == 0) {
    for (int c = threadIdx.x; c < kvWidth / 8; c += blockDim.x) {
      reinterpret_cast<uint4*>(kCache + dst)[c] = reinterpret_cast<const uint4*>(k + src)[c];
      reinterpret_cast<uint4*>(vCache + dst)[c] = reinterpret_cast<const uint4*>(v + src)[c];
    }
  } else {
    for (int c = threadIdx.x; c < kvWidth; c += blockDim.x) {
      kCache[dst + c] = k[src + c];
      vCache[dst + c] = v[src + c];
    }
  }
}
