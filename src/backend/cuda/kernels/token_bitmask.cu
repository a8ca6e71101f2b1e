// Constrained decoding: masks rows of f32 logits in place with per-row token bitmasks (words of
// 32 bits, bit (id & 31) of word (id >> 5) set = allowed; every other logit becomes -inf). The
// CPU reference is src/backend/sampling/tokenBitmask.ts. Reads only device buffers, so it can be
// launched (or captured) on the step's stream after the masks are uploaded there.
#include "common.cuh"

// grid: (ceil(words / blockDim.x), numMasked); mask row r applies to logits row rows[r].
// One thread per 32-token word: a fully allowed word (the common case) costs one load.
extern "C" __global__ void apply_token_bitmask(float* logits, const int* masks, const int* rows, int vocab, int words) {
  pdl_entry();
  const int r = blockIdx.y;
  const int w = blockIdx.x * blockDim.x + threadIdx.x;
  if (w >= words) return;
  const unsigned bits = (unsigned)masks[(long long)r * words + w];
  if (bits == 0xffffffffu) return;
  float* row = logits + (long long)rows[r] * vocab;
  const int base = w * 32;
  const int end = min(32, vocab - base);
  for (int b = 0; b < end; ++b) {
    if (((bits >> b) & 1u) == 0u) row[base + b] = -__int_as_float(0x7f800000);
  }
}
