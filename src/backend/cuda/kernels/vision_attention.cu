// Bidirectional, block-diagonal attention for the vision encoder: each patch attends to
// every patch of its own image and to no other. No GQA.
#include "attention_common.cuh"

#define WARPS 4

// grid (numPatches, ceil(numHeads / WARPS)), block 32*WARPS; q, k, v, out [numPatches,
// numHeads*hd]; patchStarts i32 [numImages + 1].
template <int DPL>
__device__ void vision_attention(bf16_t* out, const bf16_t* q, const bf16_t* k, const bf16_t* v, const int* patchStarts,
                                 int numImages, int numHeads, int hd, float scale) {
  const int lane = threadIdx.x & 31;
  const int h = blockIdx.y * WARPS + (threadIdx.x >> 5);
  if (h >= numHeads) return;
  const int t = blockIdx.x;
  const int img = owner_of(patchStarts, numImages, t);
  RowState<DPL> st;
  st.init(q + ((long long)t * numHeads + h) * hd, lane, hd, scale);
  for (int p = patchStarts[img]; p < patchStarts[img + 1]; p++) {
    const long long row = ((long long)p * numHeads + h) * hd;
    st.step(k + row, v + row, lane);
  }
  st.store(out + ((long long)t * numHeads + h) * hd, lane);
}

// vision_attention_dN serves head dims up to 32*N.
extern "C" __global__ void vision_attention_d1(bf16_t* out, const bf16_t* q, const bf16_t* k, const bf16_t* v, const int* patchStarts,
                                              int numImages, int numHeads, int hd, float scale) {
  pdl_entry();
  vision_attention<1>(out, q, k, v, patchStarts, numImages, numHeads, hd, scale);
}

extern "C" __global__ void vision_attention_d2(bf16_t* out, const bf16_t* q, const bf16_t* k, const bf16_t* v, const int* patchStarts,
                                              int numImages, int numHeads, int hd, float scale) {
  pdl_entry();
  vision_attention<2>(out, q, k, v, patchStarts, numImages, numHeads, hd, scale);
}

extern "C" __global__ void vision_attention_d4(bf16_t* out, const bf16_t* q, const bf16_t* k, const bf16_t* v, const int* patchStarts,
                                              int numImages, int numHeads, int hd, float scale) {
  pdl_entry();
  vision_attention<4>(out, q, k, v, patchStarts, numImages, numHeads, hd, scale);
}

extern "C" __global__ void vision_attention_d8(bf16_t* out, const bf16_t* q, const bf16_t* k, const bf16_t* v, const int* patchStarts,
                                              int numImages, int numHeads, int hd, float scale) {
  pdl_entry();
  vision_attention<8>(out, q, k, v, patchStarts, numImages, numHeads, hd, scale);
}
