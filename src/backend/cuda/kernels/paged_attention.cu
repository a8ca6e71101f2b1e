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

// paged_attention_dN serves head dims up to 32*N.
extern "C" __global__ void paged_attention_d1(bf16_t* out, float* partial, const bf16_t* q, const bf16_t* kCache, const bf16_t* vCache,
                                             const int* queryStarts, const int* contextLens, const int* blockTables, int numSeqs,
                                             int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, int hd, float scale, int splitLen) {
  paged_attention<1>(out, partial, q, kCache, vCache, queryStarts, contextLens, blockTables, numSeqs, maxBlocksPerSeq, blockSize, numHeads, numKvHeads, hd, scale, splitLen);
}

extern "C" __global__ void paged_attention_d2(bf16_t* out, float* partial, const bf16_t* q, const bf16_t* kCache, const bf16_t* vCache,
                                             const int* queryStarts, const int* contextLens, const int* blockTables, int numSeqs,
                                             int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, int hd, float scale, int splitLen) {
  paged_attention<2>(out, partial, q, kCache, vCache, queryStarts, contextLens, blockTables, numSeqs, maxBlocksPerSeq, blockSize, numHeads, numKvHeads, hd, scale, splitLen);
}

extern "C" __global__ void paged_attention_d4(bf16_t* out, float* partial, const bf16_t* q, const bf16_t* kCache, const bf16_t* vCache,
                                             const int* queryStarts, const int* contextLens, const int* blockTables, int numSeqs,
                                             int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, int hd, float scale, int splitLen) {
  paged_attention<4>(out, partial, q, kCache, vCache, queryStarts, contextLens, blockTables, numSeqs, maxBlocksPerSeq, blockSize, numHeads, numKvHeads, hd, scale, splitLen);
}

extern "C" __global__ void paged_attention_d8(bf16_t* out, float* partial, const bf16_t* q, const bf16_t* kCache, const bf16_t* vCache,
                                             const int* queryStarts, const int* contextLens, const int* blockTables, int numSeqs,
                                             int maxBlocksPerSeq, int blockSize, int numHeads, int numKvHeads, int hd, float scale, int splitLen) {
  paged_attention<8>(out, partial, q, kCache, vCache, queryStarts, contextLens, blockTables, numSeqs, maxBlocksPerSeq, blockSize, numHeads, numKvHeads, hd, scale, splitLen);
}

// Merges the splits: grid (numTokens, numHeads), block headDim threads (one per dim).
extern "C" __global__ void attention_combine(bf16_t* out, const float* partial, int numHeads, int headDim, int numSplits) {
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
