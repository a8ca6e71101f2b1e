// Row gathers and scatters: the token-embedding lookup and the row moves around it.
#include "common.cuh"

// out[i, :] = table[ids[i], :]; out [n, hidden], table [vocab, hidden]; grid (n), 16-byte copies.
// An id outside [0, vocab) writes a NaN row so the error cannot pass unseen.
extern "C" __global__ void embedding_bf16(bf16_t* out, const bf16_t* table, const int* ids, int hidden, int vocab) {
  pdl_entry();
  const int row = blockIdx.x;
  const int id = ids[row];
  bf16_t* dst = out + (long long)row * hidden;
  if (id < 0 || id >= vocab) {
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) dst[c] = 0x7fc0;
    return;
  }
  const bf16_t* src = table + (long long)id * hidden;
  if ((hidden & 7) == 0) {
    const uint4* s = reinterpret_cast<const uint4*>(src);
    uint4* d = reinterpret_cast<uint4*>(dst);
    for (int c = threadIdx.x; c < hidden / 8; c += blockDim.x) d[c] = s[c];
  } else {
    for (int c = threadIdx.x; c < hidden; c += blockDim.x) dst[c] = src[c];
  }
}

// out[i, :] = src[rows[i], :] over rows of `rowBytes` bytes (any dtype); grid (m).
extern "C" __global__ void gather_rows(unsigned char* out, const unsigned char* src, const int* rows, int rowBytes) {
  pdl_entry();
  const long long from = (long long)rows[blockIdx.x] * rowBytes;
  const long long to = (long long)blockIdx.x * rowBytes;
  for (int c = threadIdx.x; c < rowBytes; c += blockDim.x) out[to + c] = src[from + c];
}

// dst[rows[i], :] = src[i, :]; grid (m).
extern "C" __global__ void scatter_rows(unsigned char* dst, const unsigned char* src, const int* rows, int rowBytes) {
  pdl_entry();
  const long long to = (long long)rows[blockIdx.x] * rowBytes;
  const long long from = (long long)blockIdx.x * rowBytes;
  for (int c = threadIdx.x; c < rowBytes; c += blockDim.x) dst[to + c] = src[from + c];
}
