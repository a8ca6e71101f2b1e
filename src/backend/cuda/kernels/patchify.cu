// The patch conv's input: per image, its normalised f32 pixels [C, gridRows*P, gridCols*P]
// become bf16 rows [patches, C*P*P], patch (r, c) at row firstPatch + r*gridCols + c,
// flattened (channel, y, x) like the conv weight (src/backend/patchLayout.ts). An image of n
// patches holds n*C*P*P pixel values, so its pixels start at firstPatch * C*P*P.
#include "common.cuh"

// out [numPatches, C*P*P] bf16, pixels [numPatches*C*P*P] f32; imageInfo i32 [numImages, 4]
// holds (first patch, patches, grid cols, 0) per image. grid (ceil(max image values / block),
// numImages): one thread per output element of image blockIdx.y, so consecutive threads write
// consecutive bf16 and read runs of P consecutive pixels.
extern "C" __global__ void patchify_bf16(bf16_t* out, const float* pixels, const int* imageInfo, int patch, int channels) {
  pdl_entry();
  const int img = blockIdx.y;
  const long long firstPatch = imageInfo[img * 4];
  const int patches = imageInfo[img * 4 + 1], gridCols = imageInfo[img * 4 + 2];
  const int pp = patch * patch, width = channels * pp;
  const long long local = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (local >= (long long)patches * width) return;
  const int p = (int)(local / width), e = (int)(local % width);
  const int ch = e / pp, y = (e % pp) / patch, x = e % patch;
  const int r = p / gridCols, c = p % gridCols;
  const long long imgWidth = (long long)gridCols * patch;
  const long long plane = (long long)(patches / gridCols) * patch * imgWidth;
  const long long base = firstPatch * width;
  const float v = pixels[base + ch * plane + ((long long)r * patch + y) * imgWidth + (long long)c * patch + x];
  out[firstPatch * width + local] = f32_to_bf16(v);
}
