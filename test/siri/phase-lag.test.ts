// periodicFit: exact recovery of a hand-built sinusoid + trend (known lag, amplitude, drift), the lag's
// wrap-around and sign conventions, and agreement with numpy's least squares on a noisy series.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { periodicFit } from '../../siri/phase-lag';

const venvPython = join(import.meta.dirname, '../../.venv/bin/python');
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('periodicFit', () => {
  test('recovers a + b·t + A·cos(2π(t − lag)/T) exactly', () => {
    const T = 40;
    const steps = range(120);
    for (const lag of [0, 7, 17.5, 33]) {
      const values = steps.map((t) => 3 + 0.01 * t + 2 * Math.cos((2 * Math.PI * (t - lag)) / T));
      const fit = periodicFit(steps, values, T);
      assert.ok(Math.abs(fit.intercept - 3) < 1e-9, `intercept ${fit.intercept}`);
      assert.ok(Math.abs(fit.trendPerStep - 0.01) < 1e-11, `trend ${fit.trendPerStep}`);
      assert.ok(Math.abs(fit.amplitude - 2) < 1e-9, `amplitude ${fit.amplitude}`);
      assert.ok(Math.abs(fit.lagSteps - lag) < 1e-9, `lag ${fit.lagSteps} vs ${lag}`);
      assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
    }
  });

  test('a series moving against the budget lags by half a cycle; an uneven sampling still fits', () => {
    const T = 20;
    const steps = [0, 1, 3, 4, 6, 9, 10, 13, 15, 16, 18, 19, 22, 25, 27, 31, 34, 38];
    const values = steps.map((t) => -5 * Math.cos((2 * Math.PI * t) / T));
    const fit = periodicFit(steps, values, T);
    assert.ok(Math.abs(fit.lagSteps - T / 2) < 1e-9, `lag ${fit.lagSteps}`);
    assert.ok(Math.abs(fit.amplitude - 5) < 1e-9);
  });

  test('rejects mismatched lengths, too few points and a bad period, naming what is wrong', () => {
    assert.throws(() => periodicFit([0, 1, 2, 3], [1, 2, 3], 10), /4 steps but 3 values/);
    assert.throws(() => periodicFit([0, 1, 2], [1, 2, 3], 10), /at least 4 points/);
    assert.throws(() => periodicFit([0, 1, 2, 3], [1, 2, 3, 4], 0), /period must be > 0/);
    assert.throws(() => periodicFit([0, 0, 0, 0], [1, 2, 3, 4], 10), /singular/);
  });

  test(
    'matches numpy.linalg.lstsq on a noisy series',
    { skip: !existsSync(venvPython) && 'no .venv python' },
    () => {
      const T = 40;
      const steps = range(97);
      // A fixed pseudo-random noise (LCG) so the reference sees the same numbers.
      let s = 12345;
      const values = steps.map((t) => {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        return 11 - 0.004 * t + 0.7 * Math.cos((2 * Math.PI * (t - 13)) / T) + (s / 2 ** 31 - 0.5);
      });
      const script = [
        'import json, sys, numpy as np',
        'd = json.load(sys.stdin); t = np.array(d["t"], float); y = np.array(d["y"], float); T = d["T"]',
        'X = np.stack([np.ones_like(t), t, np.cos(2*np.pi*t/T), np.sin(2*np.pi*t/T)], 1)',
        'c = np.linalg.lstsq(X, y, rcond=None)[0]',
        'print(json.dumps([float(v) for v in c]))',
      ].join('\n');
      const out = execFileSync(venvPython, ['-c', script], {
        input: JSON.stringify({ t: steps, y: values, T }),
      }).toString();
      const [a, b, c, d] = JSON.parse(out) as number[];
      const fit = periodicFit(steps, values, T);
      assert.ok(Math.abs(fit.intercept - (a ?? 0)) < 1e-9);
      assert.ok(Math.abs(fit.trendPerStep - (b ?? 0)) < 1e-11);
      assert.ok(Math.abs(fit.amplitude - Math.hypot(c ?? 0, d ?? 0)) < 1e-9);
      const lag = ((((Math.atan2(d ?? 0, c ?? 0) / (2 * Math.PI)) * T) % T) + T) % T;
      assert.ok(Math.abs(fit.lagSteps - lag) < 1e-8, `lag ${fit.lagSteps} vs numpy ${lag}`);
    },
  );
});
