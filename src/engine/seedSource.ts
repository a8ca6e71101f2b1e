// Where a request without a seed gets its sampling seed: fresh randomness, or with the engine's
// seed (vLLM's --seed) a seeded sequence, so the same requests in the same order sample the same.
import { randomInt } from 'node:crypto';

/** Seeds in [0, 2^31): from `seed` (mulberry32 over it) or, when null, from the OS. */
export function seedSource(seed: number | null): () => number {
  if (seed === null) return () => randomInt(0, 2 ** 31);
  let a = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) >>> 1;
  };
}
