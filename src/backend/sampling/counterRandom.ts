// Counter-based uniform random numbers: u(seed, step, index) is a pure function, so a seeded
// request draws the same numbers whatever it is batched with and on any backend (a CUDA kernel
// computes the same hash per vocabulary entry).

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Mixes (seed, step) into one 32-bit key; seed may be any non-negative integer < 2^53. */
export function drawKey(seed: number, step: number): number {
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return fmix32(lo ^ fmix32(hi ^ fmix32((step >>> 0) ^ 0x9e3779b9)));
}

/** Uniform in (0, 1) for entry `index` of the draw `key`: 24 random bits, centred. */
export function uniformAt(key: number, index: number): number {
  const h = fmix32(key ^ fmix32(Math.imul(index + 1, 0x9e3779b9) >>> 0));
  return ((h >>> 8) + 0.5) / 16777216;
}
