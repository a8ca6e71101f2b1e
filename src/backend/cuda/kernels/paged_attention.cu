// Causal attention of a batch's new tokens (prefill chunks and decode tokens together) over
// the paged KV cache, GQA-aware, optionally split along the context (flash-decoding) with a
// combine pass. Query row t of sequence s sits at position contextLens[s] - queryLen(s) +
// (t - queryStarts[s]) and sees cache positions 0..that.
#include "attention_common.cuh"

#define WARPS 4

// grid (numTokens, ceil(numHeads / WARPS), numSplits), block 32*WARPS.
// q, out [numTokens, numHeads*hd]; caches [numBlocks, blockSize, numKvHeads, hd];
// blockTables [numSeqs, maxBlocksPerSeq]. With numSplits > 1 each split writes
// partial[(t*numHeads + h)*numSplits + z][hd + 2] and attention_combine finishes.
template <int DPL>
__device__ void paged_attention(bf16_t* out, float* partial, const bf16_t* q, const bf16_t* kCache, const bf16_t* vCache,
                                const int* queryStarts, const int* contextLens, const int* blockTables, int numSeqs,
                                int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, int hd, float scale, int splitLen) {
  const int lane = threadIdx.x & 31;
  const int h = blockIdx.y * WARPS + (threadIdx.x >> 5);
  if (h >= numHeads) return;
  const int t = blockIdx.x, z = blockIdx.z, numSplits = gridDim.z;
  const int s = owner_of(queryStarts, numSeqs, t);
  const int qStart = queryStarts[s];
  const int pos = contextLens[s] - (queryStarts[s + 1] - qStart) + (t - qStart);
  const int kvh = h / (numHeads / numKvHeads);
  const int* table = blockTables + (long long)s * maxBlocksPerSeq;

  RowState<DPL> st;
  st.init(q + ((long long)t * numHeads + h) * hd, lane, hd, scale);
  const int begin = z * splitLen;
  const int end = min(pos + 1, begin + splitLen);
  for (int p = begin; p < end; p++) {
    const long long slot = (long long)table[p / blockSize] * blockSize + p % blockSize;
    const long long row = (slot * numKvHeads + kvh) * hd;
    st.step(kCache + row, vCache + row, lane);
  }
  if (numSplits == 1) st.store(out + ((long long)t * numHeads + h) * hd, lane);
  else st.storePartial(partial + (((long long)t * numHeads + h) * numSplits + z) * (hd + 2), lane);
}

// paged_attention_dN serves head dims up to 32*N (N = 1, 2, 4, 8).
#define PAGED_ATTENTION(N)                                                                                                              \
  extern "C" __global__ void paged_attention_d##N(bf16_t* out, float* partial, const bf16_t* q, const bf16_t* kCache, const bf16_t* vCache, \
                                                  const int* queryStarts, const int* contextLens, const int* blockTables, int numSeqs,     \
                                                  int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, int hd, float scale,  \
                                                  int splitLen) { pdl_entry();                                                                          \
    paged_attention<N>(out, partial, q, kCache, vCache, queryStarts, contextLens, blockTables, numSeqs, maxBlocksPerSeq, blockSize,      \
                       numHeads, numKvHeads, hd, scale, splitLen);                                                                         \
  }
PAGED_ATTENTION(1)
PAGED_ATTENTION(2)
PAGED_ATTENTION(4)
PAGED_ATTENTION(8)

// Decode-oriented variant for head dims exactly 32*DPL (64, 128): lane l owns the DPL
// contiguous dims l*DPL.. (one 4- or 8-byte load per key row), and keys go 8 at a time so
// eight K and eight V loads are in flight before the first reduction. Same grid, arguments
// and partial layout as paged_attention_dN.
template <int DPL>
__device__ void paged_attention_fast(bf16_t* out, float* partial, const bf16_t* q, const bf16_t* kCache, const bf16_t* vCache,
                                     const int* queryStarts, const int* contextLens, const int* blockTables, int numSeqs,
                                     int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, float scale, int splitLen) {
  constexpr int HD = 32 * DPL, KEYS = 8;
  const int lane = threadIdx.x & 31;
  const int h = blockIdx.y * WARPS + (threadIdx.x >> 5);
  if (h >= numHeads) return;
  const int t = blockIdx.x, z = blockIdx.z, numSplits = gridDim.z;
  const int s = owner_of(queryStarts, numSeqs, t);
  const int qStart = queryStarts[s];
  const int pos = contextLens[s] - (queryStarts[s + 1] - qStart) + (t - qStart);
  const int kvh = h / (numHeads / numKvHeads);
  const int* table = blockTables + (long long)s * maxBlocksPerSeq;

  float qv[DPL], acc[DPL];
  const bf16_t* qRow = q + ((long long)t * numHeads + h) * HD + lane * DPL;
#pragma unroll
  for (int i = 0; i < DPL; i++) {
    qv[i] = bf16_to_f32(qRow[i]) * scale;
    acc[i] = 0.f;
  }
  float m = NEG_INF, l = 0.f;
  const int begin = z * splitLen;
  const int end = min(pos + 1, begin + splitLen);
  for (int p = begin; p < end; p += KEYS) {
    bf16_t kb[KEYS][DPL], vb[KEYS][DPL];
#pragma unroll
    for (int j = 0; j < KEYS; j++) {
      const int key = min(p + j, end - 1);  // past the end: re-read the last key, masked below
      const long long slot = (long long)table[key / blockSize] * blockSize + key % blockSize;
      const long long off = (slot * numKvHeads + kvh) * HD + lane * DPL;
      if (DPL == 4) {
        *reinterpret_cast<uint2*>(kb[j]) = *reinterpret_cast<const uint2*>(kCache + off);
        *reinterpret_cast<uint2*>(vb[j]) = *reinterpret_cast<const uint2*>(vCache + off);
      } else {
#pragma unroll
        for (int i = 0; i < DPL; i++) { kb[j][i] = kCache[off + i]; vb[j][i] = vCache[off + i]; }
      }
    }
    float sc[KEYS];
    float mx = m;
#pragma unroll
    for (int j = 0; j < KEYS; j++) {
      float dot = 0.f;
#pragma unroll
      for (int i = 0; i < DPL; i++) dot += qv[i] * bf16_to_f32(kb[j][i]);
      sc[j] = p + j < end ? warp_sum(dot) : NEG_INF;
      mx = fmaxf(mx, sc[j]);
    }
    const float corr = expf(m - mx);
    l *= corr;
#pragma unroll
    for (int i = 0; i < DPL; i++) acc[i] *= corr;
#pragma unroll
    for (int j = 0; j < KEYS; j++) {
      const float e = expf(sc[j] - mx);
      l += e;
#pragma unroll
      for (int i = 0; i < DPL; i++) acc[i] += e * bf16_to_f32(vb[j][i]);
    }
    m = mx;
  }
  if (numSplits == 1) {
    const float inv = l > 0.f ? 1.f / l : 0.f;
    bf16_t* o = out + ((long long)t * numHeads + h) * HD + lane * DPL;
#pragma unroll
    for (int i = 0; i < DPL; i++) o[i] = f32_to_bf16(acc[i] * inv);
  } else {
    float* part = partial + (((long long)t * numHeads + h) * numSplits + z) * (HD + 2);
    if (lane == 0) {
      part[0] = m;
      part[1] = l;
    }
#pragma unroll
    for (int i = 0; i < DPL; i++) part[2 + lane * DPL + i] = acc[i];
  }
}

// paged_attention_fast_hdD: head dim D = 32 * DPL exactly.
#define PAGED_ATTENTION_FAST(D, DPL)                                                                                                       \
  extern "C" __global__ void paged_attention_fast_hd##D(bf16_t* out, float* partial, const bf16_t* q, const bf16_t* kCache,               \
                                                        const bf16_t* vCache, const int* queryStarts, const int* contextLens,            \
                                                        const int* blockTables, int numSeqs, int maxBlocksPerSeq, int blockSize,         \
                                                        int numHeads, int numKvHeads, float scale, int splitLen) { pdl_entry();                        \
    paged_attention_fast<DPL>(out, partial, q, kCache, vCache, queryStarts, contextLens, blockTables, numSeqs, maxBlocksPerSeq, blockSize, \
                              numHeads, numKvHeads, scale, splitLen);                                                                     \
  }
PAGED_ATTENTION_FAST(64, 2)
PAGED_ATTENTION_FAST(128, 4)

// Merges the splits: grid (numTokens, numHeads), block headDim threads (one per dim).
extern "C" __global__ void attention_combine(bf16_t* out, const float* partial, int numHeads, int headDim, int numSplits) {
  pdl_entry();
  const int t = blockIdx.x, h = blockIdx.y, d = threadIdx.x;
  const float* base = partial + ((long long)t * numHeads + h) * numSplits * (headDim + 2);
  float mMax = NEG_INF;
  for (int z = 0; z < numSplits; z++) mMax = fmaxf(mMax, base[z * (headDim + 2)]);
  float l = 0.f, acc = 0.f;
  for (int z = 0; z < numSplits; z++) {
    const float* part = base + z * (headDim + 2);
    if (part[1] == 0.f) continue;  // an empty split (past this row's causal end)
    const float w = expf(part[0] - mMax);
    l += part[1] * w;
    acc += part[2 + d] * w;
  }
  out[((long long)t * numHeads + h) * headDim + d] = f32_to_bf16(l > 0.f ? acc / l : 0.f);
}
