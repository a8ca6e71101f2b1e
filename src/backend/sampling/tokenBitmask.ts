// Constrained decoding's token bitmask on one row of logits (the CPU reference of
// kernels/token_bitmask.cu): words of 32 bits, bit (id & 31) of word (id >> 5) set when token id
// is allowed; every other logit becomes -inf, in place.

/** Masks `logits` in place and returns it. */
export function applyTokenBitmask(logits: Float32Array, mask: Int32Array): Float32Array {
  const vocab = logits.length;
  const words = Math.ceil(vocab / 32);
  if (mask.length < words) throw new RangeError(`token bitmask of ${mask.length} words for a vocabulary of ${vocab} (needs ${words})`);
  for (let w = 0; w < words; w++) {
    const bits = mask[w];
    if (bits === -1) continue; // all 32 allowed
    const base = w * 32;
    const end = Math.min(32, vocab - base);
    if (bits === 0) {
      logits.fill(-Infinity, base, base + end);
      continue;
    }
    for (let b = 0; b < end; b++) if (((bits >>> b) & 1) === 0) logits[base + b] = -Infinity;
  }
  return logits;
}

/** Whether token `id` is allowed by `mask`. */
export function bitmaskAllows(mask: Int32Array, id: number): boolean {
  return ((mask[id >>> 5] >>> (id & 31)) & 1) === 1;
}
