// How a training series (e.g. "wait" per 1K tokens per step) follows a cyclic length budget: a least-squares
// fit of one sinusoid of the schedule's period plus a linear trend, read as amplitude and lag. Checked against
// the paper's claim that verification words fall in compression and rise in expansion (docs/toy.md).
// Pure: no Node APIs.
import { mod } from './schedule';

export interface PeriodicFit {
  /** a: the fitted value at t = 0 without the periodic part. */
  intercept: number;
  /** b: the linear drift per step. */
  trendPerStep: number;
  /** √(c² + d²): half the peak-to-peak swing of the periodic part. */
  amplitude: number;
  /**
   * Steps after t ≡ 0 (mod T) at which the periodic part peaks, in [0, T). A cyclic SIRI budget peaks at
   * cycle position 0, so this is how far the series lags the budget (T/2: it moves against it).
   */
  lagSteps: number;
  /** Coefficient of determination of the whole fit (1 − SSres/SStot); NaN for a constant series. */
  r2: number;
}

/** Solves the square system A x = y by Gaussian elimination with partial pivoting (A is row-major, n × n). */
function solve(a: number[][], y: number[]): number[] {
  const n = y.length;
  const m = a.map((row, i) => [...row, y[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(m[r]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = r;
    }
    const rowP = m[pivot];
    if (!rowP || Math.abs(rowP[col] ?? 0) < 1e-12) {
      throw new RangeError('periodic fit is singular: need steps covering more of the cycle');
    }
    [m[col], m[pivot]] = [rowP, m[col] as number[]];
    const rowC = m[col] as number[];
    for (let r = 0; r < n; r++) {
      const row = m[r] as number[];
      if (r === col) continue;
      const f = (row[col] ?? 0) / (rowC[col] ?? 1);
      for (let k = col; k <= n; k++) row[k] = (row[k] ?? 0) - f * (rowC[k] ?? 0);
    }
  }
  return m.map((row, i) => (row[n] ?? 0) / (row[i] ?? 1));
}

/**
 * Fits y(t) ≈ a + b·t + c·cos(2πt/T) + d·sin(2πt/T) by ordinary least squares (normal equations, 4 × 4).
 * Since c·cos φ + d·sin φ = A·cos(φ − θ) with A = √(c² + d²), θ = atan2(d, c), the periodic part peaks at
 * t = θ·T/(2π) (mod T): the lag behind a budget L(t) = mid + half·cos(2πt/T).
 */
export function periodicFit(
  steps: readonly number[],
  values: readonly number[],
  period: number,
): PeriodicFit {
  if (steps.length !== values.length) {
    throw new RangeError(`periodic fit: ${steps.length} steps but ${values.length} values`);
  }
  if (!(period > 0)) throw new RangeError(`periodic fit: period must be > 0, got ${period}`);
  if (steps.length < 4) throw new RangeError('periodic fit needs at least 4 points');
  const rows = steps.map((t) => {
    const phi = (2 * Math.PI * t) / period;
    return [1, t, Math.cos(phi), Math.sin(phi)];
  });
  const ata = [0, 1, 2, 3].map((i) =>
    [0, 1, 2, 3].map((j) => rows.reduce((s, r) => s + (r[i] ?? 0) * (r[j] ?? 0), 0)),
  );
  const aty = [0, 1, 2, 3].map((i) => rows.reduce((s, r, k) => s + (r[i] ?? 0) * (values[k] ?? 0), 0));
  const [a = 0, b = 0, c = 0, d = 0] = solve(ata, aty);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  let ssRes = 0;
  let ssTot = 0;
  rows.forEach((r, k) => {
    const fitted = a * (r[0] ?? 0) + b * (r[1] ?? 0) + c * (r[2] ?? 0) + d * (r[3] ?? 0);
    ssRes += ((values[k] ?? 0) - fitted) ** 2;
    ssTot += ((values[k] ?? 0) - mean) ** 2;
  });
  const theta = Math.atan2(d, c);
  const lag = mod((theta / (2 * Math.PI)) * period, period);
  return {
    intercept: a,
    trendPerStep: b,
    amplitude: Math.hypot(c, d),
    lagSteps: lag,
    r2: ssTot > 0 ? 1 - ssRes / ssTot : Number.NaN,
  };
}
