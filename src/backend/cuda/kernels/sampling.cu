// Logits post-processing on the GPU, one block (1024 threads) per requested row, so only
// token ids and the requested logprobs cross back to the host. Semantics and order are
// those of src/backend/sampling/sampleRow.ts (vLLM's v1 sampler): logit bias, banned ids and
// penalties (applied by apply_adjustments), then greedy argmax, or temperature, min-p,
// top-k (ties with the k-th value survive), top-p (ascending-cumsum rule, ties ordered by
// descending index as the reference sorts them) and an exponential-race draw whose uniform
// numbers come from the same counter hash as counterRandom.ts.
#include "common.cuh"

#define POS_INF __int_as_float(0x7f800000)
#define SAMPLING_EPS 1e-5

__device__ __forceinline__ u32 fmix32(u32 h) {
  h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16;
  return h;
}

// Uniform in (0, 1) for entry `index` of draw `key` (counterRandom.ts uniformAt).
__device__ __forceinline__ double uniform_at(u32 key, int index) {
  const u32 h = fmix32(key ^ fmix32((u32)(index + 1) * 0x9e3779b9u));
  return ((double)(h >> 8) + 0.5) / 16777216.0;
}

// Order-preserving map of a float to an unsigned key (larger float, larger key).
__device__ __forceinline__ u32 order_key(float f) {
  const u32 b = __float_as_uint(f);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// Block-wide argmax of (value, index); ties go to the lower index. All threads get it.
template <typename T>
__device__ void block_argmax(T& v, int& i) {
  __shared__ T sv[32];
  __shared__ int si[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const T ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (ov > v || (ov == v && oi < i)) { v = ov; i = oi; }
  }
  __syncthreads();
  if (lane == 0) { sv[warp] = v; si[warp] = i; }
  __syncthreads();
  if (warp == 0) {
    v = lane < warps ? sv[lane] : sv[0];
    i = lane < warps ? si[lane] : si[0];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
      const T ov = __shfl_xor_sync(0xffffffffu, v, o);
      const int oi = __shfl_xor_sync(0xffffffffu, i, o);
      if (ov > v || (ov == v && oi < i)) { v = ov; i = oi; }
    }
    if (lane == 0) { sv[0] = v; si[0] = i; }
  }
  __syncthreads();
  v = sv[0];
  i = si[0];
  __syncthreads();
}

// work[r, :] = logits[rows[r], :] (f32); grid (blocks a row, numRequests), grid-stride over
// vocab (a 131072-entry row is 512 KB: one block a row took ~29 µs of a decode step).
extern "C" __global__ void gather_logits(float* work, const float* logits, const int* rows, int vocab) {
  pdl_entry();
  const float* src = logits + (long long)rows[blockIdx.y] * vocab;
  float* dst = work + (long long)blockIdx.y * vocab;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < vocab; i += gridDim.x * blockDim.x) dst[i] = src[i];
}

// Sparse per-token edits, one thread each. adj [numAdj, 6] f32: (request, token id, bias,
// banned (0/1), repetition penalty (1: none), subtract (frequency*count + presence)).
extern "C" __global__ void apply_adjustments(float* work, const float* adj, int numAdj, int vocab) {
  pdl_entry();
  const int a = blockIdx.x * blockDim.x + threadIdx.x;
  if (a >= numAdj) return;
  const float* e = adj + a * 6;
  const int r = (int)e[0], id = (int)e[1];
  if (id < 0 || id >= vocab) return;
  float* v = work + (long long)r * vocab + id;
  float x = *v + e[2];
  if (e[3] != 0.f) x = -POS_INF;
  if (e[4] != 1.f) x = x > 0.f ? x / e[4] : x * e[4];
  x -= e[5];
  *v = x;
}

// params [numRequests, 8] f64: (unused, temperature, topK, topP, minP, draw key, 0, 0).
// work [numRequests, vocab] is modified; outIds i32 [numRequests]. block 1024.
// mass [numRequests, vocab] f64 scratch (top-p only): exp(v - max) computed once, so the 32
// passes of the top-p search re-read it instead of recomputing the exponentials (each thread
// visits the same indices in the same order, so every sum is bit-identical to recomputing).
extern "C" __global__ void __launch_bounds__(1024) sample_rows(int* outIds, float* work, double* massRows, const double* params, int vocab) {
  pdl_entry();
  const int r = blockIdx.x;
  const double* p = params + r * 8;
  const double temperature = p[1], topP = p[3], minP = p[4];
  const int topK = (int)p[2];
  const u32 key = (u32)p[5];
  float* v = work + (long long)r * vocab;
  const int tid = threadIdx.x, nt = blockDim.x;

  if (temperature < SAMPLING_EPS) {
    float best = -POS_INF; int bi = 0x7fffffff;
    for (int i = tid; i < vocab; i += nt) if (bi == 0x7fffffff || v[i] > best) { best = v[i]; bi = i; }
    block_argmax<float>(best, bi);
    if (tid == 0) outIds[r] = bi;
    return;
  }

  float mx = -POS_INF;
  for (int i = tid; i < vocab; i += nt) {
    const float s = (float)((double)v[i] / temperature);
    v[i] = s;
    mx = fmaxf(mx, s);
  }
  mx = block_max(mx);
  __syncthreads();

  if (minP > 0.0) {
    const double cut = (double)mx + log(minP);
    for (int i = tid; i < vocab; i += nt) if ((double)v[i] < cut) v[i] = -POS_INF;
    __syncthreads();
  }

  if (topK > 0 && topK < vocab) {
    double finite = 0;
    for (int i = tid; i < vocab; i += nt) finite += v[i] > -POS_INF ? 1.0 : 0.0;
    if (block_sum_d(finite) > (double)topK) {
      // The largest key K with count(key >= K) >= topK is the k-th largest value's key.
      u32 ans = 0;
      for (int bit = 31; bit >= 0; bit--) {
        const u32 cand = ans | (1u << bit);
        double c = 0;
        #pragma unroll 4
        for (int i = tid; i < vocab; i += nt) c += (v[i] > -POS_INF && order_key(v[i]) >= cand) ? 1.0 : 0.0;
        if (block_sum_d(c) >= (double)topK) ans = cand;
      }
      for (int i = tid; i < vocab; i += nt) if (order_key(v[i]) < ans) v[i] = -POS_INF;
    }
    __syncthreads();
  }

  if (topP < 1.0) {
    double* mass = massRows + (long long)r * vocab;
    double total = 0;
    for (int i = tid; i < vocab; i += nt) {
      const double e = v[i] > -POS_INF ? exp((double)v[i] - (double)mx) : 0.0;
      mass[i] = e;
      if (v[i] > -POS_INF) total += e;
    }
    total = block_sum_d(total);
    const double thr = 1.0 - topP;  // a prefix of ascending mass (normalised) <= thr is dropped
    // e = the first kept entry: its value's key is the largest K with mass(key < K) <= thr.
    u32 ans = 0;
    for (int bit = 31; bit >= 0; bit--) {
      const u32 cand = ans | (1u << bit);
      double m = 0;
      #pragma unroll 4
      for (int i = tid; i < vocab; i += nt) m += order_key(v[i]) < cand ? mass[i] : 0.0;  // mass is 0 where v is -inf
      if (block_sum_d(m) / total <= thr) ans = cand;
    }
    // Ties with e's value: the reference orders them by descending index, so the kept ones
    // are the nKeep lowest indices, where S_lt + c * pTie > thr for the c-th from the top.
    double below = 0, ties = 0, tieValue = 0;
    for (int i = tid; i < vocab; i += nt) {
      if (!(v[i] > -POS_INF)) continue;
      const u32 k = order_key(v[i]);
      if (k < ans) below += mass[i];
      else if (k == ans) { ties += 1.0; tieValue = (double)v[i]; }
    }
    below = block_sum_d(below) / total;
    const double numTies = block_sum_d(ties);
    int keepTieUpTo = 0x7fffffff;  // largest index among kept ties
    if (numTies > 1.0) {
      const double pTie = exp(block_max((float)(ties > 0 ? tieValue : -POS_INF)) - (double)mx) / total;
      const double x = (thr - below) / pTie;
      double drop = floor(x);
      drop = drop < 0 ? 0 : (drop > numTies - 1 ? numTies - 1 : drop);
      const double nKeep = numTies - drop;
      // smallest index m with count(ties with index <= m) >= nKeep
      int lo = 0, hi = vocab - 1;
      while (lo < hi) {
        const int mid = (lo + hi) >> 1;
        double c = 0;
        for (int i = tid; i <= mid; i += nt) c += (v[i] > -POS_INF && order_key(v[i]) == ans) ? 1.0 : 0.0;
        if (block_sum_d(c) >= nKeep) hi = mid; else lo = mid + 1;
      }
      keepTieUpTo = lo;
    }
    for (int i = tid; i < vocab; i += nt) {
      const u32 k = order_key(v[i]);
      if (k < ans || (k == ans && i > keepTieUpTo)) v[i] = -POS_INF;
    }
    __syncthreads();
  }

  // Exponential race: argmax of l_i - log(E_i), E_i = -log(u_i).
  double best = -1.0 / 0.0; int bi = 0x7fffffff;
  for (int i = tid; i < vocab; i += nt) {
    if (!(v[i] > -POS_INF)) continue;
    const double score = (double)v[i] - log(-log(uniform_at(key, i)));
    if (score > best) { best = score; bi = i; }
  }
  block_argmax<double>(best, bi);
  if (tid == 0) outIds[r] = bi == 0x7fffffff ? 0 : bi;
}

// Logprobs of the raw distribution. req [numRequests, 4] i32: (row, target token or -1 to
// take sampledIds[r], numTop, 0). outF [numRequests, 1 + maxTop] f64: chosen logprob, then
// the top logprobs; outI [numRequests, 2 + maxTop] i32: chosen id, rank, then the top ids.
extern "C" __global__ void token_logprobs(double* outF, int* outI, const float* logits, const int* req, const int* sampledIds, int vocab, int maxTop) {
  pdl_entry();
  const int r = blockIdx.x;
  const int row = req[r * 4], numTop = req[r * 4 + 2];
  const int token = req[r * 4 + 1] >= 0 ? req[r * 4 + 1] : sampledIds[r];
  const float* v = logits + (long long)row * vocab;
  const int tid = threadIdx.x, nt = blockDim.x;
  float mx = -POS_INF;
  for (int i = tid; i < vocab; i += nt) mx = fmaxf(mx, v[i]);
  mx = block_max(mx);
  double sum = 0;
  for (int i = tid; i < vocab; i += nt) sum += exp((double)v[i] - (double)mx);
  const double lse = (double)mx + log(block_sum_d(sum));
  const float chosen = v[token];
  double rank = 0;
  for (int i = tid; i < vocab; i += nt) rank += v[i] >= chosen ? 1.0 : 0.0;
  rank = block_sum_d(rank);
  if (tid == 0) {
    outF[r * (1 + maxTop)] = (double)chosen - lse;
    outI[r * (2 + maxTop)] = token;
    outI[r * (2 + maxTop) + 1] = (int)rank;
  }
  // The top entries by (value desc, index asc), one block argmax per entry.
  float prevV = POS_INF; int prevI = -1;
  for (int j = 0; j < numTop; j++) {
    float bv = -POS_INF; int bi = 0x7fffffff;
    for (int i = tid; i < vocab; i += nt) {
      const float x = v[i];
      const bool after = x < prevV || (x == prevV && i > prevI);
      if (after && (bi == 0x7fffffff || x > bv)) { bv = x; bi = i; }
    }
    block_argmax<float>(bv, bi);
    if (tid == 0) {
      outF[r * (1 + maxTop) + 1 + j] = (double)bv - lse;
      outI[r * (2 + maxTop) + 2 + j] = bi;
    }
    prevV = bv; prevI = bi;
  }
}
