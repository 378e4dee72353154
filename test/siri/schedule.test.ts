// Length schedulers: hand-computed per-step tables, rounding/granularity/phase/clamping, the phase and
// iteration helpers, the named checkpoints, and fast-check properties (bounds, periodicity, symmetry).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  iterationAt,
  maxTokensAt,
  namedCheckpoints,
  parseSchedule,
  phaseAt,
  roundHalfUp,
  scheduleTable,
  type CyclicScheduleConfig,
  type ScheduleConfig,
} from '../../siri/schedule';

const T = 640;
const paper = { lMax: 16384, lMin: 8192, cycle: T };
const cosine: ScheduleConfig = { kind: 'cosine', ...paper };
const stair: ScheduleConfig = { kind: 'stair', ...paper };
const stairCosine: ScheduleConfig = { kind: 'stair-cosine', ...paper };

// 12288 ± 4096·cos(π/4) = 12288 ± 2896.309… → 15184 (15184.31) and 9392 (9391.69).
function assertTable(schedule: ScheduleConfig, table: [number, number][]): void {
  for (const [step, expected] of table) {
    assert.equal(maxTokensAt(schedule, step), expected, `step ${step}`);
  }
}

describe('cosine scheduler', () => {
  test('per-step values at multiples of T/8 (paper defaults)', () => {
    assertTable(cosine, [
      [0, 16384],
      [80, 15184],
      [160, 12288],
      [240, 9392],
      [320, 8192],
      [400, 9392],
      [480, 12288],
      [560, 15184],
      [640, 16384],
      [720, 15184],
      [1919, 16384], // u = 639: 16384 − 4096·(1 − cos(2π/640)) = 16383.80
    ]);
  });

  test('a small cycle, every step: T = 8, 16 ↔ 8', () => {
    const s: ScheduleConfig = { kind: 'cosine', lMax: 16, lMin: 8, cycle: 8 };
    // 12 + 4·cos(2πu/8): 16, 14.83, 12, 9.17, 8, 9.17, 12, 14.83
    assert.deepEqual(
      scheduleTable(s, 9).map((r) => r.maxTokens),
      [16, 15, 12, 9, 8, 9, 12, 15, 16],
    );
  });

  test('exact halves round up (cos(π/2) is 6e-17 in floating point, not 0)', () => {
    // mid = (255 + 128)/2 = 191.5 at T/4 and 3T/4 → 192
    const s: ScheduleConfig = { kind: 'cosine', lMax: 255, lMin: 128, cycle: 40 };
    assert.equal(maxTokensAt(s, 10), 192);
    assert.equal(maxTokensAt(s, 30), 192);
    // 100.5 → 101
    assert.equal(maxTokensAt({ kind: 'cosine', lMax: 101, lMin: 100, cycle: 4 }, 1), 101);
    assert.equal(roundHalfUp(2.5), 3);
    assert.equal(roundHalfUp(2.4999), 2);
    assert.equal(roundHalfUp(1536, 1024), 2048);
  });

  test('granularity rounds half up to a multiple, then clamps to [lMin, lMax]', () => {
    const g: ScheduleConfig = { kind: 'cosine', ...paper, granularity: 1024 };
    assert.equal(maxTokensAt(g, 80), 15360); // 15184.3 / 1024 = 14.83 → 15
    assert.equal(maxTokensAt(g, 240), 9216); // 9391.7 / 1024 = 9.17 → 9
    assert.equal(maxTokensAt(g, 160), 12288); // 12 exactly
    // 16000 / 1024 = 15.63 → 16 → 16384, clamped to lMax 16000
    const high: ScheduleConfig = { kind: 'cosine', lMax: 16000, lMin: 8000, cycle: T, granularity: 1024 };
    assert.equal(maxTokensAt(high, 0), 16000);
    assert.equal(maxTokensAt(high, 320), 8192); // 8000 / 1024 = 7.81 → 8
    // 8300 / 1024 = 8.1 → 8 → 8192, clamped up to lMin 8300
    const low: ScheduleConfig = { kind: 'cosine', lMax: 16384, lMin: 8300, cycle: T, granularity: 1024 };
    assert.equal(maxTokensAt(low, 320), 8300);
  });

  test('phase shifts the cycle: L_phase(t) = L(t + phase), negative phases too', () => {
    const ahead: ScheduleConfig = { kind: 'cosine', ...paper, phase: 160 };
    assert.equal(maxTokensAt(ahead, 0), 12288);
    assert.equal(maxTokensAt(ahead, 160), 8192);
    assert.equal(maxTokensAt(ahead, 480), 16384);
    const behind: ScheduleConfig = { kind: 'cosine', ...paper, phase: -160 };
    assert.equal(maxTokensAt(behind, 0), 12288);
    assert.equal(maxTokensAt(behind, 160), 16384);
    assert.equal(maxTokensAt(behind, 480), 8192);
  });

  test('rejects steps that are negative or fractional', () => {
    assert.throws(() => maxTokensAt(cosine, -1), RangeError);
    assert.throws(() => maxTokensAt(cosine, 1.5), RangeError);
  });
});

describe('stair scheduler', () => {
  test('lMax where cos φ >= 0 (u <= T/4 or u >= 3T/4), lMin elsewhere', () => {
    assertTable(stair, [
      [0, 16384],
      [80, 16384],
      [160, 16384], // φ = π/2, cos φ = 0 → lMax
      [161, 8192],
      [240, 8192],
      [320, 8192],
      [400, 8192],
      [479, 8192],
      [480, 16384],
      [560, 16384],
      [639, 16384],
      [801, 8192],
    ]);
  });
});

describe('stair-cosine scheduler', () => {
  test('per-step values at multiples of T/16 (plateaus and ramps)', () => {
    assertTable(stairCosine, [
      [0, 16384],
      [40, 16384],
      [80, 16384], // φ = π/4: ramp starts at cos 0 = 1
      [120, 15184], // cos(2·π/8) = cos(π/4)
      [160, 12288], // cos(π/2)
      [200, 9392], // cos(3π/4)
      [240, 8192], // φ = 3π/4: plateau at lMin
      [320, 8192],
      [399, 8192],
      [400, 8192], // φ = 5π/4: second ramp starts at cos π = −1
      [440, 9392],
      [480, 12288],
      [520, 15184],
      [560, 16384], // φ = 7π/4: plateau at lMax
      [639, 16384],
    ]);
  });

  // The paper's piecewise form written out literally, to check the mirrored implementation against.
  function paperStairCosine(lMax: number, lMin: number, cycle: number, t: number): number {
    const phi = (2 * Math.PI * (t % cycle)) / cycle;
    const mid = (lMax + lMin) / 2;
    const half = (lMax - lMin) / 2;
    let raw: number;
    const u8 = 8 * (t % cycle); // compare φ against kπ/4 exactly: φ < kπ/4 ⇔ 8u < k·T
    if (u8 < cycle || u8 >= 7 * cycle) raw = lMax;
    else if (u8 < 3 * cycle) raw = mid + half * Math.cos(2 * (phi - Math.PI / 4));
    else if (u8 < 5 * cycle) raw = lMin;
    else raw = mid + half * Math.cos(2 * (phi - (3 * Math.PI) / 4));
    return Math.floor(raw + 0.5 + 1e-9);
  }

  test('equals the paper piecewise formula at every step of several cycles', () => {
    for (const [lMax, lMin, cycle] of [
      [16384, 8192, 640],
      [256, 128, 20],
      [255, 100, 13],
      [1000, 999, 7],
    ] as const) {
      const s: ScheduleConfig = { kind: 'stair-cosine', lMax, lMin, cycle };
      for (let t = 0; t < 2 * cycle; t++) {
        assert.equal(maxTokensAt(s, t), paperStairCosine(lMax, lMin, cycle, t), `T=${cycle} t=${t}`);
      }
    }
  });
});

describe('constant, stages, piecewise', () => {
  test('constant is lMax at every step', () => {
    const s: ScheduleConfig = { kind: 'constant', lMax: 16384 };
    for (const t of [0, 1, 320, 100000]) assert.equal(maxTokensAt(s, t), 16384);
    assert.equal(phaseAt(s, 5), 'hold');
    assert.deepEqual(namedCheckpoints(s, 1920), []);
  });

  test('stages: 8192, then 16384 from step 320', () => {
    const s: ScheduleConfig = {
      kind: 'stages',
      stages: [
        { fromStep: 0, length: 8192 },
        { fromStep: 320, length: 16384 },
      ],
    };
    assertTable(s, [
      [0, 8192],
      [319, 8192],
      [320, 16384],
      [5000, 16384],
    ]);
    assert.equal(phaseAt(s, 320), 'hold');
  });

  test('piecewise: linear between points, flat outside them', () => {
    const s: ScheduleConfig = {
      kind: 'piecewise',
      points: [
        { step: 10, length: 16384 },
        { step: 330, length: 8192 },
        { step: 650, length: 16384 },
      ],
    };
    assertTable(s, [
      [0, 16384],
      [10, 16384],
      [11, 16358], // 16384 − 8192/320 = 16358.4
      [170, 12288],
      [330, 8192],
      [490, 12288],
      [649, 16358],
      [650, 16384],
      [9999, 16384],
    ]);
    const g: ScheduleConfig = { ...s, granularity: 1000 };
    assert.equal(maxTokensAt(g, 11), 16000); // 16358.4 / 1000 = 16.36 → 16000
    assert.equal(maxTokensAt(g, 170), 12000);
    assert.equal(maxTokensAt(g, 330), 8192); // 8000 → clamped up to the lowest point 8192
  });

  test('piecewise phase follows the slope of the segment arriving at a point', () => {
    const s: ScheduleConfig = {
      kind: 'piecewise',
      points: [
        { step: 0, length: 16384 },
        { step: 100, length: 8192 },
        { step: 200, length: 8192 },
        { step: 300, length: 16384 },
      ],
    };
    assert.equal(phaseAt(s, 0), 'compression');
    assert.equal(phaseAt(s, 100), 'compression');
    assert.equal(phaseAt(s, 101), 'hold');
    assert.equal(phaseAt(s, 200), 'hold');
    assert.equal(phaseAt(s, 201), 'expansion');
    assert.equal(phaseAt(s, 300), 'expansion');
    assert.equal(phaseAt(s, 301), 'hold');
  });
});

describe('phase, iteration and named checkpoints', () => {
  test('cyclic phases: compression for u in [0, T/2], expansion for u in (T/2, T)', () => {
    for (const s of [cosine, stair, stairCosine]) {
      assert.equal(phaseAt(s, 0), 'compression');
      assert.equal(phaseAt(s, 320), 'compression');
      assert.equal(phaseAt(s, 321), 'expansion');
      assert.equal(phaseAt(s, 639), 'expansion');
      assert.equal(phaseAt(s, 640), 'compression');
    }
  });

  test('iteration index is 0-based and aligned to where L returns to lMax', () => {
    assert.deepEqual(
      [0, 639, 640, 1279, 1280, 1919].map((t) => iterationAt(cosine, t)),
      [0, 0, 1, 1, 2, 2],
    );
    const shifted: ScheduleConfig = { kind: 'cosine', ...paper, phase: 160 };
    assert.deepEqual(
      [0, 479, 480, 1119, 1120].map((t) => iterationAt(shifted, t)),
      [0, 0, 1, 1, 2],
    );
    assert.equal(iterationAt({ kind: 'constant', lMax: 10 }, 5000), 0);
  });

  test('paper run: six named checkpoints, written after the step whose L is lMin / the cycle end', () => {
    const named = namedCheckpoints(cosine, 1920);
    assert.deepEqual(
      named.map((n) => [n.name, n.step, n.iteration, n.completedSteps]),
      [
        ['Iter1-Compressed', 320, 1, 321],
        ['Iter1-Expanded', 639, 1, 640],
        ['Iter2-Compressed', 960, 2, 961],
        ['Iter2-Expanded', 1279, 2, 1280],
        ['Iter3-Compressed', 1600, 3, 1601],
        ['Iter3-Expanded', 1919, 3, 1920],
      ],
    );
    for (const n of named) {
      if (n.name.endsWith('Compressed')) assert.equal(maxTokensAt(cosine, n.step), 8192);
      assert.equal(iterationAt(cosine, n.step) + 1, n.iteration);
    }
  });

  test('odd cycles, partial runs and phase offsets', () => {
    const odd: ScheduleConfig = { kind: 'cosine', lMax: 100, lMin: 50, cycle: 7 };
    assert.deepEqual(
      namedCheckpoints(odd, 14).map((n) => `${n.name}@${n.step}`),
      ['Iter1-Compressed@3', 'Iter1-Expanded@6', 'Iter2-Compressed@10', 'Iter2-Expanded@13'],
    );
    assert.deepEqual(
      namedCheckpoints(cosine, 1000).map((n) => `${n.name}@${n.step}`),
      ['Iter1-Compressed@320', 'Iter1-Expanded@639', 'Iter2-Compressed@960'],
    );
    const late: ScheduleConfig = { kind: 'cosine', ...paper, phase: 400 };
    assert.deepEqual(
      namedCheckpoints(late, 1920).map((n) => `${n.name}@${n.step}`),
      [
        'Iter1-Expanded@239',
        'Iter2-Compressed@560',
        'Iter2-Expanded@879',
        'Iter3-Compressed@1200',
        'Iter3-Expanded@1519',
        'Iter4-Compressed@1840',
      ],
    );
    assert.equal(maxTokensAt(late, 560), 8192);
  });
});

describe('validation', () => {
  test('accepts the paper schedule and rejects bad ones', () => {
    assert.deepEqual(parseSchedule({ kind: 'cosine', ...paper }), cosine);
    assert.throws(
      () => parseSchedule({ kind: 'cosine', lMax: 8192, lMin: 16384, cycle: 640 }),
      /expected lMin <= lMax \(8192\), got 16384/,
    );
    assert.throws(() => parseSchedule({ kind: 'cosine', ...paper, cycle: 2 }));
    assert.throws(() => parseSchedule({ kind: 'cosine', ...paper, extra: 1 }), /extra/);
    assert.throws(() => parseSchedule({ kind: 'linear', ...paper }));
    assert.throws(
      () => parseSchedule({ kind: 'stages', stages: [{ fromStep: 5, length: 10 }] }),
      /first stage to start at fromStep 0/,
    );
    assert.throws(
      () =>
        parseSchedule({
          kind: 'stages',
          stages: [
            { fromStep: 0, length: 10 },
            { fromStep: 0, length: 20 },
          ],
        }),
      /strictly increasing/,
    );
    assert.throws(
      () =>
        parseSchedule({
          kind: 'piecewise',
          points: [
            { step: 3, length: 10 },
            { step: 2, length: 20 },
          ],
        }),
      /strictly increasing/,
    );
  });
});

describe('properties (fast-check)', () => {
  const cyclicArb: fc.Arbitrary<CyclicScheduleConfig> = fc
    .record({
      kind: fc.constantFrom('cosine' as const, 'stair' as const, 'stair-cosine' as const),
      a: fc.integer({ min: 1, max: 40000 }),
      b: fc.integer({ min: 1, max: 40000 }),
      cycle: fc.integer({ min: 3, max: 2000 }),
      phase: fc.integer({ min: -5000, max: 5000 }),
      granularity: fc.integer({ min: 1, max: 512 }),
    })
    .map(({ kind, a, b, cycle, phase, granularity }) => ({
      kind,
      lMax: Math.max(a, b),
      lMin: Math.min(a, b),
      cycle,
      phase,
      granularity,
    }));
  const stepArb = fc.integer({ min: 0, max: 1_000_000 });

  test('integer, within [lMin, lMax], a multiple of the granularity unless clamped', () => {
    fc.assert(
      fc.property(cyclicArb, stepArb, (s, t) => {
        const L = maxTokensAt(s, t);
        const g = s.granularity ?? 1;
        return (
          Number.isInteger(L) && L >= s.lMin && L <= s.lMax && (L % g === 0 || L === s.lMin || L === s.lMax)
        );
      }),
      { numRuns: 500 },
    );
  });

  test('periodic: L(t + T) = L(t); phase: L_p(t) = L_0(t + p) for p >= 0', () => {
    fc.assert(
      fc.property(cyclicArb, stepArb, (s, t) => {
        const base = { ...s, phase: 0 };
        const p = Math.abs(s.phase ?? 0);
        return (
          maxTokensAt(s, t + s.cycle) === maxTokensAt(s, t) &&
          maxTokensAt({ ...s, phase: p }, t) === maxTokensAt(base, t + p)
        );
      }),
      { numRuns: 500 },
    );
  });

  test('symmetric about mid-cycle: L(u) = L(T − u); lMax at u = 0, lMin at u = T/2 (even T)', () => {
    fc.assert(
      fc.property(cyclicArb, fc.nat(), (s, n) => {
        const z = { ...s, phase: 0, granularity: 1 };
        const u = 1 + (n % (s.cycle - 1));
        const minAtHalf = s.cycle % 2 === 1 || maxTokensAt(z, s.cycle / 2) === s.lMin;
        return maxTokensAt(z, u) === maxTokensAt(z, s.cycle - u) && maxTokensAt(z, 0) === s.lMax && minAtHalf;
      }),
      { numRuns: 500 },
    );
  });

  test('non-increasing through compression, non-decreasing through expansion', () => {
    fc.assert(
      fc.property(cyclicArb, (s) => {
        const z = { ...s, phase: 0 };
        const cycle = Math.min(s.cycle, 400);
        const zz = { ...z, cycle };
        for (let t = 1; t < cycle; t++) {
          const prev = maxTokensAt(zz, t - 1);
          const cur = maxTokensAt(zz, t);
          if (phaseAt(zz, t) === 'compression' ? cur > prev : cur < prev) return false;
        }
        return true;
      }),
      { numRuns: 150 },
    );
  });

  test('the compressed checkpoint sits at the cycle minimum and ends the compression phase', () => {
    fc.assert(
      fc.property(cyclicArb, fc.integer({ min: 1, max: 6000 }), (s, steps) => {
        for (const n of namedCheckpoints(s, steps)) {
          if (n.step < 0 || n.step >= steps) return false;
          if (n.name.endsWith('-Compressed')) {
            if (phaseAt(s, n.step) !== 'compression' || phaseAt(s, n.step + 1) !== 'expansion') return false;
            if (maxTokensAt(s, n.step) !== maxTokensAt({ ...s, phase: 0 }, Math.floor(s.cycle / 2)))
              return false;
          } else if (maxTokensAt(s, n.step + 1) !== maxTokensAt({ ...s, phase: 0 }, 0)) return false; // next cycle starts
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });
});
