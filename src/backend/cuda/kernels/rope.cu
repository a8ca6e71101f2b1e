// Rotary position embeddings, HF rotate-half layout (pair i with i + headDim/2), in place.
// Inverse frequencies and angles in f32 as transformers computes them; the rotation in f32,
// rounded to bf16 once.
#include "rope.cuh"

__device__ __forceinline__ void rotate_pair(bf16_t* v, int i, int half, float c, float s) {
  rotate_bf16(v[i], v[i + half], c, s, v + i, v + i + half);
}

// Text RoPE. q [n, numHeads*hd], k [n, numKvHeads*hd], positions i32 [n]; grid (n, numHeads +
// numKvHeads): one block a (token, head), a thread a pair (a decode token's 40 heads run on 40
// multiprocessors instead of one).
extern "C" __global__ void rope_text_bf16(bf16_t* q, bf16_t* k, const int* positions, int numHeads, int numKvHeads, int hd, float theta) {
  pdl_entry();
  const int t = blockIdx.x, head = blockIdx.y;
  const int half = hd / 2;
  const float pos = (float)positions[t];
  bf16_t* v = head < numHeads ? q + ((long long)t * numHeads + head) * hd : k + ((long long)t * numKvHeads + (head - numHeads)) * hd;
  for (int i = threadIdx.x; i < half; i += blockDim.x) {
    float s, c;
    rope_text_angle(pos, i, hd, theta, &s, &c);
    rotate_pair(v, i, half, c, s);
  }
}

// Pixtral 2D RoPE. q, k [n, numHeads*hd]; patchRows, patchCols i32 [n]; grid (n).
// Frequency f_j = 1 / theta^(2j/hd); dims i < hd/4 turn with row * f_(2i), dims
// hd/4 <= i < hd/2 with col * f_(2(i - hd/4) + 1); dim i + hd/2 pairs with dim i.
extern "C" __global__ void rope_vision_bf16(bf16_t* q, bf16_t* k, const int* patchRows, const int* patchCols, int numHeads, int hd, float theta) {
  pdl_entry();
  const int t = blockIdx.x;
  const int half = hd / 2, quarter = hd / 4;
  const float r = (float)patchRows[t], col = (float)patchCols[t];
  const int pairs = 2 * numHeads * half;
  for (int p = threadIdx.x; p < pairs; p += blockDim.x) {
    const int head = p / half, i = p % half;
    const int j = i < quarter ? 2 * i : 2 * (i - quarter) + 1;
    const float f = 1.0f / powf(theta, (float)(2 * j) / (float)hd);
    float s, c;
    sincosf((i < quarter ? r : col) * f, &s, &c);
    bf16_t* base = head < numHeads ? q + ((long long)t * numHeads + head) * hd : k + ((long long)t * numHeads + head - numHeads) * hd;
    rotate_pair(base, i, half, c, s);
  }
}
