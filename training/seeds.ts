// Deterministic seeds for every random choice of a run, derived from (run seed, step, shard, purpose) —
// never from time — so a retried or resumed activity makes exactly the same choices.

/** 32-bit mix (murmur3 finalizer) of a 32-bit state. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seed in [0, 2^31) from the run seed and any number of integer coordinates. */
export function deriveSeed(runSeed: number, ...coordinates: number[]): number {
  let h = fmix32((runSeed >>> 0) ^ 0x9e3779b9);
  for (const c of coordinates) h = fmix32(h ^ fmix32((c >>> 0) + 0x7f4a7c15));
  return h & 0x7fffffff;
}

/** Purposes, so streams for different uses never coincide. */
export const SeedPurpose = { promptOrder: 1, rollout: 2, evaluate: 3 } as const;

/** A small seeded PRNG (mulberry32) for shuffles. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates permutation of 0..n−1 from a seed. */
export function seededPermutation(n: number, seed: number): number[] {
  const random = mulberry32(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}

/**
 * The problem indices of rollout batch (step, shard): slot g = (step·(maxShards) + shard)·B + i walks a
 * fresh seeded permutation of the dataset each epoch, so without extra shards every problem is used once
 * per epoch, and every (step, shard) has a fixed set of prompts however often it is retried.
 */
export function batchProblemIndices(options: {
  runSeed: number;
  datasetSize: number;
  batchPrompts: number;
  step: number;
  shard: number;
  maxShards: number;
}): number[] {
  const { runSeed, datasetSize: n, batchPrompts: b, step, shard, maxShards } = options;
  if (n < 1) throw new Error('the training set is empty');
  const first = (step * maxShards + shard) * b;
  const indices: number[] = [];
  let epoch = -1;
  let order: number[] = [];
  for (let g = first; g < first + b; g++) {
    const e = Math.floor(g / n);
    if (e !== epoch) {
      epoch = e;
      order = seededPermutation(n, deriveSeed(runSeed, SeedPurpose.promptOrder, e));
    }
    indices.push(order[g % n] as number);
  }
  return indices;
}
