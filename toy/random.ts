// Seeded pseudo-random numbers for the toy world (problem generator, teacher, SFT data order).
// Never Math.random: the same seed must give the same problems, traces and base checkpoint everywhere.
// Generator: xoshiro128** (Blackman & Vigna), 128-bit state, seeded from a 32-bit seed by splitmix32.
// Independent streams (train vs held-out problems, one trace per problem) come from `fork(label)`, which
// hashes the label (FNV-1a) into the parent's seed, so adding draws to one stream never shifts another.

/** splitmix32 step: a well-mixed 32-bit output from a 32-bit counter state. */
function splitmix32(state: number): number {
  let z = (state + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string: a stable 32-bit hash for labels and problem keys. */
export function fnv1a(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed any integer; only its low 32 bits are used. */
  constructor(readonly seed: number) {
    let state = seed >>> 0;
    const next = (): number => {
      const out = splitmix32(state);
      state = (state + 0x9e3779b9) >>> 0;
      return out;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // xoshiro's state must not be all zero; splitmix32 makes that essentially impossible, but be sure.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** xoshiro128**: result = rotl(s1 * 5, 7) * 9, then the xor-shift state update. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive), unbiased (rejection sampling on the 32-bit output). */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw new RangeError(`Rng.int: bad range [${lo}, ${hi}]`);
    }
    const span = hi - lo + 1;
    if (span > 4294967296) throw new RangeError(`Rng.int: range wider than 2^32`);
    // Largest multiple of span below 2^32; draws at or above it are rejected.
    const limit = 4294967296 - (4294967296 % span);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return lo + (x % span);
    }
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.float() < p;
  }

  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** An index drawn with probability proportional to weights[i] (weights >= 0, not all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`Rng.weighted: bad weight ${w}`);
      total += w;
    }
    if (total <= 0) throw new RangeError('Rng.weighted: all weights are zero');
    let u = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i] as number;
      if (u < 0) return i;
    }
    // Rounding left u at ~0: the last index with positive weight.
    for (let i = weights.length - 1; i >= 0; i--) if ((weights[i] as number) > 0) return i;
    return 0;
  }

  /** Fisher–Yates shuffle into a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** An independent generator for a named sub-stream of this generator's seed. */
  fork(label: string | number): Rng {
    return new Rng(fnv1a(String(label), splitmix32(this.seed >>> 0)));
  }
}
