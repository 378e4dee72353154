// Metrics for training logs, evaluation and the paper's Table 1: pass@1, unbiased pass@k, length
// statistics, truncation rate, the accuracy–compression ratio against a base model, the Pareto frontier
// of (length, accuracy) points, behaviour-keyword rates and mean token entropy. Pure functions.

// ---------------------------------------------------------------------------------------------------
// Accuracy

/** pass@1: the mean over each problem's samples of "correct", then the mean over problems. */
export function passAt1(perProblem: readonly (readonly boolean[])[]): number {
  if (perProblem.length === 0) throw new RangeError('pass@1 needs at least one problem');
  let total = 0;
  for (const samples of perProblem) {
    if (samples.length === 0) throw new RangeError('every problem needs at least one sample');
    total += samples.filter(Boolean).length / samples.length;
  }
  return total / perProblem.length;
}

/** pass@1 of two models on the same problems, and their difference with its paired standard error. */
export interface PairedPassAt1 {
  problems: number;
  passAt1A: number;
  passAt1B: number;
  /** pass@1(A) − pass@1(B). */
  difference: number;
  /** Standard error of the difference over problems. */
  standardError: number;
}

/**
 * Compares two models evaluated on the same n problems. Per problem i, d_i = acc_A,i − acc_B,i (each the
 * share of that model's samples that are correct); the difference of pass@1 is mean(d) and its standard
 * error sd(d) / √n with the unbiased sd (n − 1). Pairing by problem removes the spread of problem
 * difficulty that two independent standard errors would count twice. Problems are matched by key; a key
 * missing on either side is an error.
 */
export function pairedPassAt1(
  a: ReadonlyMap<string, readonly boolean[]>,
  b: ReadonlyMap<string, readonly boolean[]>,
): PairedPassAt1 {
  if (a.size === 0) throw new RangeError('a paired comparison needs at least one problem');
  if (a.size !== b.size) throw new RangeError(`the two evaluations have ${a.size} and ${b.size} problems`);
  const share = (samples: readonly boolean[], key: string): number => {
    if (samples.length === 0) throw new RangeError(`problem ${key} has no samples`);
    return samples.filter(Boolean).length / samples.length;
  };
  const diffs: number[] = [];
  let sumA = 0;
  let sumB = 0;
  for (const [key, samplesA] of a) {
    const samplesB = b.get(key);
    if (samplesB === undefined) throw new RangeError(`problem ${key} is in the first evaluation only`);
    const accA = share(samplesA, key);
    const accB = share(samplesB, key);
    sumA += accA;
    sumB += accB;
    diffs.push(accA - accB);
  }
  const n = diffs.length;
  const mean = diffs.reduce((s, d) => s + d, 0) / n;
  const variance = n > 1 ? diffs.reduce((s, d) => s + (d - mean) * (d - mean), 0) / (n - 1) : 0;
  return {
    problems: n,
    passAt1A: sumA / n,
    passAt1B: sumB / n,
    difference: mean,
    standardError: Math.sqrt(variance / n),
  };
}

/**
 * Unbiased pass@k of one problem with n samples of which c are correct (Chen et al. 2021):
 *   pass@k = 1 − C(n − c, k) / C(n, k) = 1 − ∏_{i = n − c + 1}^{n} (1 − k / i)
 * The product form never builds a binomial coefficient, so it is stable for large n. When n − c < k
 * every k-subset holds a correct sample and pass@k = 1.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k)) {
    throw new RangeError(`n, c and k must be integers, got n=${n} c=${c} k=${k}`);
  }
  if (n < 1 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`pass@k needs 1 <= k <= n and 0 <= c <= n, got n=${n} c=${c} k=${k}`);
  }
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

/** pass@k averaged over problems, each given as {n samples, c correct}. */
export function meanPassAtK(problems: readonly { n: number; c: number }[], k: number): number {
  if (problems.length === 0) throw new RangeError('pass@k needs at least one problem');
  let total = 0;
  for (const p of problems) total += passAtK(p.n, p.c, k);
  return total / problems.length;
}

// ---------------------------------------------------------------------------------------------------
// Lengths and truncation

/**
 * The q-quantile (0 <= q <= 1) with linear interpolation between closest ranks (numpy's default
 * "linear" method): position h = (n − 1)·q in the sorted values.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty list');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be in [0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? 0;
  return a + (b - a) * (h - lo);
}

export interface LengthStats {
  count: number;
  mean: number;
  median: number;
  /** 90th percentile (linear interpolation, see quantile). */
  p90: number;
  max: number;
}

/** Mean / median / p90 / max of response lengths; null for an empty list. */
export function lengthStats(lengths: readonly number[]): LengthStats | null {
  if (lengths.length === 0) return null;
  let sum = 0;
  let max = -Infinity;
  for (const l of lengths) {
    sum += l;
    if (l > max) max = l;
  }
  return {
    count: lengths.length,
    mean: sum / lengths.length,
    median: quantile(lengths, 0.5),
    p90: quantile(lengths, 0.9),
    max,
  };
}

/** Length statistics overall and split by correct / incorrect samples (null where a split is empty). */
export function lengthStatsByCorrectness(samples: readonly { length: number; correct: boolean }[]): {
  all: LengthStats | null;
  correct: LengthStats | null;
  incorrect: LengthStats | null;
} {
  return {
    all: lengthStats(samples.map((s) => s.length)),
    correct: lengthStats(samples.filter((s) => s.correct).map((s) => s.length)),
    incorrect: lengthStats(samples.filter((s) => !s.correct).map((s) => s.length)),
  };
}

/** The fraction of samples cut by the length cap (0 for no samples). */
export function truncationRate(samples: readonly { truncated: boolean }[]): number {
  if (samples.length === 0) return 0;
  return samples.filter((s) => s.truncated).length / samples.length;
}

// ---------------------------------------------------------------------------------------------------
// The paper's accuracy–compression ratio (Table 1)

export interface BenchmarkScore {
  benchmark: string;
  /** Accuracy (pass@1) in [0, 1] (any consistent scale works: only ratios are used). */
  accuracy: number;
  /** Mean response length in tokens. */
  meanLength: number;
}

export interface AccuracyCompression {
  perBenchmark: {
    benchmark: string;
    /** acc_b / acc0_b − 1, unclipped. */
    relativeGain: number;
    /** max(acc_b / acc0_b − 1, 0). */
    deltaAcc: number;
    /** len_b / len0_b: a length ratio (NOT 1 − ratio); below 1 means shorter than the base. */
    compressionRatio: number;
  }[];
  /** mean_b ΔAcc_b */
  meanDeltaAcc: number;
  /** mean_b CR_b */
  meanCompressionRatio: number;
  /** mean_b(ΔAcc_b) / mean_b(CR_b): the figure in the paper's Table 1. */
  ratio: number;
  /** mean_b(acc_b / acc0_b − 1), unclipped: the paper's "+27.0% avg". */
  meanRelativeGain: number;
}

/**
 * The paper's accuracy–compression ratio of a model against its base model, over the benchmarks the
 * model row has (each must also be in the base row):
 *   ΔAcc_b = max(acc_b / acc0_b − 1, 0),  CR_b = len_b / len0_b,  ratio = mean_b(ΔAcc_b) / mean_b(CR_b).
 * Note this is a ratio of means, not a mean of per-benchmark ratios.
 */
export function accuracyCompressionRatio(
  model: readonly BenchmarkScore[],
  base: readonly BenchmarkScore[],
): AccuracyCompression {
  if (model.length === 0) throw new RangeError('the model row has no benchmarks');
  const baseByName = new Map(base.map((b) => [b.benchmark, b]));
  const perBenchmark = model.map((m) => {
    const b = baseByName.get(m.benchmark);
    if (!b) throw new RangeError(`benchmark "${m.benchmark}" is missing from the base model's row`);
    if (!(b.accuracy > 0) || !(b.meanLength > 0)) {
      throw new RangeError(`base accuracy and length on "${m.benchmark}" must be positive`);
    }
    const relativeGain = m.accuracy / b.accuracy - 1;
    return {
      benchmark: m.benchmark,
      relativeGain,
      deltaAcc: Math.max(relativeGain, 0),
      compressionRatio: m.meanLength / b.meanLength,
    };
  });
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const meanDeltaAcc = mean(perBenchmark.map((p) => p.deltaAcc));
  const meanCompressionRatio = mean(perBenchmark.map((p) => p.compressionRatio));
  return {
    perBenchmark,
    meanDeltaAcc,
    meanCompressionRatio,
    ratio: meanDeltaAcc / meanCompressionRatio,
    meanRelativeGain: mean(perBenchmark.map((p) => p.relativeGain)),
  };
}

// ---------------------------------------------------------------------------------------------------
// Pareto frontier

export interface LengthAccuracyPoint {
  length: number;
  accuracy: number;
  label?: string;
}

/**
 * The points no other point dominates, sorted by length ascending. Shorter is better and more accurate
 * is better: q dominates p when q.length <= p.length and q.accuracy >= p.accuracy with one of the two
 * strict. Identical points do not dominate each other, so duplicates on the frontier are all kept.
 */
export function paretoFrontier<P extends LengthAccuracyPoint>(points: readonly P[]): P[] {
  const dominated = (p: P): boolean =>
    points.some(
      (q) =>
        q.length <= p.length && q.accuracy >= p.accuracy && (q.length < p.length || q.accuracy > p.accuracy),
    );
  return points.filter((p) => !dominated(p)).sort((a, b) => a.length - b.length || b.accuracy - a.accuracy);
}

// ---------------------------------------------------------------------------------------------------
// Token behaviour: keyword counts per 1K tokens

export const DEFAULT_BEHAVIOUR_KEYWORDS: readonly string[] = [
  'wait',
  'hold on',
  'alternatively',
  'so',
  'compute',
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Matcher for one keyword: case-insensitive, whole words only (not preceded or followed by a letter,
 * digit or underscore, Unicode-aware), and any run of whitespace between the words of a phrase. So
 * "so" counts in "So," and "so." but not in "also" or "sooner"; "compute" does not count "computed".
 */
export function keywordPattern(keyword: string): RegExp {
  const words = keyword.trim().split(/\s+/).map(escapeRegExp).join('\\s+');
  return new RegExp(`(?<![\\p{L}\\p{N}_])${words}(?![\\p{L}\\p{N}_])`, 'giu');
}

/** How often each keyword occurs in a text (non-overlapping matches). */
export function keywordCounts(
  text: string,
  keywords: readonly string[] = DEFAULT_BEHAVIOUR_KEYWORDS,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const k of keywords) counts[k] = text.match(keywordPattern(k))?.length ?? 0;
  return counts;
}

export interface KeywordRates {
  /** Response tokens in this split. */
  tokens: number;
  counts: Record<string, number>;
  /** 1000 · count / tokens (0 when the split has no tokens). */
  per1k: Record<string, number>;
}

function keywordRatesOf(
  samples: readonly { text: string; tokens: number }[],
  keywords: readonly string[],
): KeywordRates {
  const counts: Record<string, number> = Object.fromEntries(keywords.map((k) => [k, 0]));
  let tokens = 0;
  for (const s of samples) {
    tokens += s.tokens;
    const c = keywordCounts(s.text, keywords);
    for (const k of keywords) counts[k] = (counts[k] ?? 0) + (c[k] ?? 0);
  }
  const per1k = Object.fromEntries(
    keywords.map((k) => [k, tokens > 0 ? (1000 * (counts[k] ?? 0)) / tokens : 0]),
  );
  return { tokens, counts, per1k };
}

/**
 * Keyword occurrences per 1K response tokens, pooled over the samples of each split (total count over
 * total tokens, not a mean of per-sample rates), for all / correct / incorrect samples.
 */
export function keywordRatesByCorrectness(
  samples: readonly { text: string; tokens: number; correct: boolean }[],
  keywords: readonly string[] = DEFAULT_BEHAVIOUR_KEYWORDS,
): { all: KeywordRates; correct: KeywordRates; incorrect: KeywordRates } {
  return {
    all: keywordRatesOf(samples, keywords),
    correct: keywordRatesOf(
      samples.filter((s) => s.correct),
      keywords,
    ),
    incorrect: keywordRatesOf(
      samples.filter((s) => !s.correct),
      keywords,
    ),
  };
}

// ---------------------------------------------------------------------------------------------------
// Entropy

/**
 * Entropy (nats) of the softmax of one token's logits: H = logsumexp(z) − Σ softmax(z)_i · z_i,
 * computed with the max subtracted so large logits do not overflow.
 */
export function entropyFromLogits(logits: ArrayLike<number>): number {
  if (logits.length === 0) throw new RangeError('entropy of an empty distribution');
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] ?? -Infinity);
  let sumExp = 0;
  let sumExpZ = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = (logits[i] ?? -Infinity) - max;
    const e = Math.exp(z);
    sumExp += e;
    if (e > 0) sumExpZ += e * z;
  }
  return Math.log(sumExp) - sumExpZ / sumExp;
}

/** Mean token entropy: the mean over every token of every sample (token-mean, not a mean of sample means). */
export function meanTokenEntropy(perSampleTokenEntropies: readonly ArrayLike<number>[]): number {
  let sum = 0;
  let count = 0;
  for (const entropies of perSampleTokenEntropies) {
    for (let i = 0; i < entropies.length; i++) sum += entropies[i] ?? 0;
    count += entropies.length;
  }
  if (count === 0) throw new RangeError('mean token entropy needs at least one token');
  return sum / count;
}
