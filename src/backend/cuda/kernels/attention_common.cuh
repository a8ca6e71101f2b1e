// One warp computes attention of one query row and one head with an online softmax over
// its keys (flash-decoding style): lane l owns every 32nd dim of q, k, v and the
// accumulator; each key costs one warp reduction. Correct first; the tiled tensor-core
// versions come later and are checked against this one.
#pragma once
#include "common.cuh"

#define NEG_INF (-__int_as_float(0x7f800000))

template <int DPL>
struct RowState {
  // Lane l owns dims l, l + 32, ..., l + 32*(DPL-1) that are below hd (any hd <= 32*DPL):
  // a warp reads 32 consecutive elements at a time, coalesced.
  float q[DPL];
  float acc[DPL];
  float m, l;
  int hd;

  __device__ void init(const bf16_t* qRow, int lane, int headDim, float scale) {
    hd = headDim;
#pragma unroll
    for (int i = 0; i < DPL; i++) {
      const int d = lane + 32 * i;
      q[i] = d < hd ? bf16_to_f32(qRow[d]) * scale : 0.f;
      acc[i] = 0.f;
    }
    m = NEG_INF;
    l = 0.f;
  }

  // Folds one key/value pair into the state.
  __device__ void step(const bf16_t* kRow, const bf16_t* vRow, int lane) {
    float dot = 0.f;
#pragma unroll
    for (int i = 0; i < DPL; i++) {
      const int d = lane + 32 * i;
      if (d < hd) dot += q[i] * bf16_to_f32(kRow[d]);
    }
    const float s = warp_sum(dot);
    const float mNew = fmaxf(m, s);
    const float corr = expf(m - mNew);
    const float p = expf(s - mNew);
    l = l * corr + p;
#pragma unroll
    for (int i = 0; i < DPL; i++) {
      const int d = lane + 32 * i;
      if (d < hd) acc[i] = acc[i] * corr + p * bf16_to_f32(vRow[d]);
    }
    m = mNew;
  }

  __device__ void store(bf16_t* outRow, int lane) const {
    const float inv = l > 0.f ? 1.f / l : 0.f;
#pragma unroll
    for (int i = 0; i < DPL; i++) {
      const int d = lane + 32 * i;
      if (d < hd) outRow[d] = f32_to_bf16(acc[i] * inv);
    }
  }

  // Partial result of one split: [m, l, acc[hd]] in f32.
  __device__ void storePartial(float* part, int lane) const {
    if (lane == 0) {
      part[0] = m;
      part[1] = l;
    }
#pragma unroll
    for (int i = 0; i < DPL; i++) {
      const int d = lane + 32 * i;
      if (d < hd) part[2 + d] = acc[i];
    }
  }
};
