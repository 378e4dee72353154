// Metrics: pass@k against brute-force enumeration, length statistics against numpy-style quantiles,
// the paper's accuracy–compression ratio (Table 1 fixtures and a hand-computed case), the Pareto
// frontier, keyword rates and token entropy.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  pairedPassAt1,
  DEFAULT_BEHAVIOUR_KEYWORDS,
  accuracyCompressionRatio,
  entropyFromLogits,
  keywordCounts,
  keywordRatesByCorrectness,
  lengthStats,
  lengthStatsByCorrectness,
  meanPassAtK,
  meanTokenEntropy,
  paretoFrontier,
  passAt1,
  passAtK,
  quantile,
  truncationRate,
} from '../../siri/metrics';

const close = (a: number, b: number, tol = 1e-9): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** The fraction of all k-subsets of n samples (c of them correct) that hold at least one correct one. */
function bruteForcePassAtK(n: number, c: number, k: number): number {
  let subsets = 0;
  let hits = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let size = 0;
    let anyCorrect = false;
    for (let i = 0; i < n; i++) {
      if (mask & (1 << i)) {
        size++;
        if (i < c) anyCorrect = true; // samples 0..c−1 are the correct ones
      }
    }
    if (size !== k) continue;
    subsets++;
    if (anyCorrect) hits++;
  }
  return hits / subsets;
}

describe('paired pass@1 difference', () => {
  test('hand-computed: per-problem differences, their mean and sd/√n', () => {
    const a = new Map([
      ['p1', [true, true, false, false]], // 0.5
      ['p2', [true, true, true, true]], // 1.0
      ['p3', [false, false, false, false]], // 0
    ]);
    const b = new Map([
      ['p3', [false, false, false, true]], // 0.25 (order of keys does not matter)
      ['p1', [true, false, false, false]], // 0.25
      ['p2', [true, true, true, false]], // 0.75
    ]);
    // d = [0.25, 0.25, −0.25]: mean 1/12; sd² = (2·(1/6)² + (1/3)²) / 2 = 1/12; SE = √(1/12 / 3) = 1/6.
    const r = pairedPassAt1(a, b);
    assert.equal(r.problems, 3);
    assert.ok(Math.abs(r.passAt1A - 0.5) < 1e-12);
    assert.ok(Math.abs(r.passAt1B - 5 / 12) < 1e-12);
    assert.ok(Math.abs(r.difference - 1 / 12) < 1e-12);
    assert.ok(Math.abs(r.standardError - 1 / 6) < 1e-12);
  });

  test('problems must match, each with samples', () => {
    const one = new Map([['p1', [true]]]);
    assert.throws(
      () => pairedPassAt1(one, new Map([['p2', [true]]])),
      /problem p1 is in the first evaluation only/,
    );
    assert.throws(() => pairedPassAt1(one, new Map()), /1 and 0 problems/);
    assert.throws(
      () => pairedPassAt1(new Map([['p1', []]]), new Map([['p1', [true]]])),
      /problem p1 has no samples/,
    );
    assert.throws(() => pairedPassAt1(new Map(), new Map()), /at least one problem/);
  });
});

describe('pass@k', () => {
  test('equals brute-force enumeration of k-subsets for every n <= 10', () => {
    for (let n = 1; n <= 10; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) close(passAtK(n, c, k), bruteForcePassAtK(n, c, k), 1e-12);
      }
    }
  });

  test('pass@1 = c/n; stable for large n (matches the log-space product)', () => {
    close(passAtK(16, 5, 1), 5 / 16);
    const n = 100000;
    const c = 37;
    const k = 1000;
    let logAllWrong = 0;
    for (let i = n - c + 1; i <= n; i++) logAllWrong += Math.log1p(-k / i);
    close(passAtK(n, c, k), 1 - Math.exp(logAllWrong), 1e-12);
    assert.equal(passAtK(10, 8, 3), 1); // n − c = 2 < k: every 3-subset holds a correct one
    assert.throws(() => passAtK(4, 5, 1), RangeError);
    assert.throws(() => passAtK(4, 1, 5), RangeError);
  });

  test('averaged over problems; pass@1 as the mean of per-problem means', () => {
    close(
      meanPassAtK(
        [
          { n: 4, c: 1 },
          { n: 4, c: 0 },
        ],
        2,
      ),
      (0.5 + 0) / 2,
    ); // 1 − C(3,2)/C(4,2) = 1 − 3/6
    close(passAt1([[true, false, false, false], [true, true], [false]]), (0.25 + 1 + 0) / 3);
  });
});

describe('lengths and truncation', () => {
  test('mean / median / p90 with linear interpolation (numpy default)', () => {
    const lengths = [10, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    assert.deepEqual(lengthStats(lengths), { count: 10, mean: 5.5, median: 5.5, p90: 9.1, max: 10 });
    close(quantile([1, 2, 3, 4], 0.9), 3.7); // h = 3·0.9 = 2.7 → 3 + 0.7·(4 − 3)
    assert.equal(lengthStats([]), null);
  });

  test('split by correctness', () => {
    const split = lengthStatsByCorrectness([
      { length: 100, correct: true },
      { length: 300, correct: true },
      { length: 1000, correct: false },
    ]);
    assert.equal(split.all?.mean, 1400 / 3);
    assert.equal(split.correct?.median, 200);
    assert.equal(split.incorrect?.p90, 1000);
    assert.equal(lengthStatsByCorrectness([{ length: 5, correct: true }]).incorrect, null);
  });

  test('truncation rate', () => {
    assert.equal(
      truncationRate([{ truncated: true }, { truncated: false }, { truncated: false }, { truncated: true }]),
      0.5,
    );
    assert.equal(truncationRate([]), 0);
  });
});

describe('accuracy–compression ratio (paper Table 1)', () => {
  test('SIRI-low 1.5B row: ΔAcc 0.270, CR 0.567 → ratio 0.47 (within 0.01)', () => {
    // The row's averages as a one-benchmark row: acc/acc0 = 1.270, len/len0 = 0.567.
    const r = accuracyCompressionRatio(
      [{ benchmark: 'avg', accuracy: 0.5 * 1.27, meanLength: 10000 * 0.567 }],
      [{ benchmark: 'avg', accuracy: 0.5, meanLength: 10000 }],
    );
    close(r.meanDeltaAcc, 0.27, 1e-12);
    close(r.meanCompressionRatio, 0.567, 1e-12);
    assert.ok(Math.abs(r.ratio - 0.47) <= 0.01, `ratio ${r.ratio}`);
    close(r.meanRelativeGain, 0.27, 1e-12); // the paper's "+27.0% avg"
  });

  test('paper abstract, SIRI-low on AIME24: +43.2% accuracy, −46.9% tokens → ratio 0.432 / 0.531', () => {
    const r = accuracyCompressionRatio(
      [{ benchmark: 'AIME24', accuracy: 0.25 * 1.432, meanLength: 10000 * (1 - 0.469) }],
      [{ benchmark: 'AIME24', accuracy: 0.25, meanLength: 10000 }],
    );
    close(r.meanDeltaAcc, 0.432, 1e-12);
    close(r.meanCompressionRatio, 0.531, 1e-12);
    close(r.ratio, 0.8135593220338984, 1e-12);
  });

  test('hand-computed three-benchmark row: clipping, and a ratio of means (not a mean of ratios)', () => {
    const base = [
      { benchmark: 'A', accuracy: 0.4, meanLength: 10000 },
      { benchmark: 'B', accuracy: 0.8, meanLength: 4000 },
      { benchmark: 'C', accuracy: 0.9, meanLength: 2000 },
      { benchmark: 'unused', accuracy: 0.1, meanLength: 1 },
    ];
    const model = [
      { benchmark: 'A', accuracy: 0.5, meanLength: 6000 }, // +25%, CR 0.6
      { benchmark: 'B', accuracy: 0.76, meanLength: 3000 }, // −5% → ΔAcc 0, CR 0.75
      { benchmark: 'C', accuracy: 0.99, meanLength: 1000 }, // +10%, CR 0.5
    ];
    const r = accuracyCompressionRatio(model, base);
    close(r.perBenchmark[1]?.relativeGain ?? NaN, -0.05);
    assert.equal(r.perBenchmark[1]?.deltaAcc, 0);
    close(r.meanDeltaAcc, 0.35 / 3);
    close(r.meanCompressionRatio, 1.85 / 3);
    close(r.ratio, 0.35 / 1.85); // 0.18919, whereas the mean of per-benchmark ratios would be 0.2056
    close(r.meanRelativeGain, 0.1);
    assert.throws(
      () => accuracyCompressionRatio([{ benchmark: 'D', accuracy: 1, meanLength: 1 }], base),
      /missing/,
    );
  });
});

describe('Pareto frontier', () => {
  test('keeps the points no other point beats on both length and accuracy, sorted by length', () => {
    const pts = [
      { length: 1000, accuracy: 0.5, label: 'A' },
      { length: 2000, accuracy: 0.6, label: 'B' },
      { length: 1500, accuracy: 0.4, label: 'C' }, // dominated by A
      { length: 2000, accuracy: 0.55, label: 'D' }, // dominated by B (same length, less accurate)
      { length: 3000, accuracy: 0.6, label: 'E' }, // dominated by B (same accuracy, longer)
      { length: 500, accuracy: 0.3, label: 'F' },
      { length: 2000, accuracy: 0.6, label: 'B2' }, // identical to B: both kept
    ];
    assert.deepEqual(
      paretoFrontier(pts).map((p) => p.label),
      ['F', 'A', 'B', 'B2'],
    );
  });
});

describe('behaviour keywords', () => {
  test('whole words, case-insensitive, phrases across whitespace', () => {
    const text =
      'Wait, so the answer is 3. Hold\n on. ALTERNATIVELY we compute it; also computed. Sooner or later, so.';
    assert.deepEqual(keywordCounts(text), { wait: 1, 'hold on': 1, alternatively: 1, so: 2, compute: 1 });
    assert.deepEqual(keywordCounts('wait wait WAIT waiting await', ['wait']), { wait: 3 });
    assert.deepEqual(DEFAULT_BEHAVIOUR_KEYWORDS, ['wait', 'hold on', 'alternatively', 'so', 'compute']);
  });

  test('per 1K tokens, pooled per split', () => {
    const rates = keywordRatesByCorrectness(
      [
        { text: 'wait wait so', tokens: 500, correct: true },
        { text: 'wait', tokens: 1500, correct: true },
        { text: 'hold on, alternatively', tokens: 250, correct: false },
      ],
      ['wait', 'so', 'hold on'],
    );
    assert.deepEqual(rates.correct.counts, { wait: 3, so: 1, 'hold on': 0 });
    assert.deepEqual(rates.correct.per1k, { wait: 1.5, so: 0.5, 'hold on': 0 }); // 3 / 2000 tokens · 1000
    assert.deepEqual(rates.incorrect.per1k, { wait: 0, so: 0, 'hold on': 4 }); // 1 / 250 · 1000
    assert.equal(rates.all.tokens, 2250);
    close(rates.all.per1k.wait ?? NaN, 3000 / 2250);
  });
});

describe('token entropy', () => {
  test('entropy of softmax(logits) in nats', () => {
    close(entropyFromLogits([0, 0, 0, 0]), Math.log(4));
    close(entropyFromLogits([0, Math.log(3)]), 0.5623351446188083); // p = (1/4, 3/4)
    close(entropyFromLogits([1000, 1000]), Math.log(2)); // no overflow
    close(entropyFromLogits([0, -Infinity]), 0);
  });

  test('mean over all tokens, not over samples', () => {
    assert.equal(meanTokenEntropy([[1, 2], [3]]), 2); // (1 + 2 + 3) / 3, not (1.5 + 3) / 2
    assert.equal(meanTokenEntropy([new Float32Array([0.5, 1.5])]), 1);
    assert.throws(() => meanTokenEntropy([[]]), RangeError);
  });
});
