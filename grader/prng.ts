// Seeded pseudo-random numbers for the numeric equivalence test (never Math.random: grades must be
// reproducible and safe to call from deterministic Temporal workflow code).
// mulberry32: a 32-bit state generator; period 2^32, ample for a handful of evaluation points.

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
