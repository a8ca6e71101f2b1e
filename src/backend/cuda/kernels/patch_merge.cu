// Pixtral's patch merger gather: per image with patch grid h x w, each merge x merge block
// (bi, bj) becomes one row whose element c*merge^2 + di*merge + dj is
// x[(merge*bi + di)*w + merge*bj + dj, c] of that image (channel-major).
#include "common.cuh"

// out [numPatches/merge^2, C*merge^2], x [numPatches, C]; imageInfo i32 [numImages, 4] holds
// (first patch, first out row, grid rows, grid cols) per image; grid (out rows), rowOwner i32
// [out rows] the image of each out row.
extern "C" __global__ void patch_merge_bf16(bf16_t* out, const bf16_t* x, const int* imageInfo, const int* rowOwner, int channels, int merge) {
  pdl_entry();
  const int o = blockIdx.x;
  const int img = rowOwner[o];
  const int firstPatch = imageInfo[img * 4], firstOut = imageInfo[img * 4 + 1], w = imageInfo[img * 4 + 3];
  const int local = o - firstOut;
  const int bw = w / merge;
  const int bi = local / bw, bj = local % bw;
  const int mm = merge * merge;
  const int width = channels * mm;
  for (int e = threadIdx.x; e < width; e += blockDim.x) {
    const int c = e / mm, r = e % mm, di = r / merge, dj = r % merge;
    const long long patch = firstPatch + (long long)(merge * bi + di) * w + merge * bj + dj;
    out[(long long)o * width + e] = x[patch * channels + c];
  }
}
