// The toy experiment's methods (siri/experiment.ts): each method's schedule written out by hand from the
// issue's list for the `toy` preset (cosine 256/48, cycle 20, 60 steps), the --methods subset and its
// errors, the runs of a multi-seed experiment, the across-seed comparison against hand-computed figures,
// and the spawned `siri experiment` rejecting bad choices before it starts anything.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { presetConfig } from '../../siri/config';
import {
  compareAcrossSeeds,
  experimentMethods,
  experimentRuns,
  methodConfig,
  problemStandardError,
  runConfig,
} from '../../siri/experiment';

const toy = presetConfig('toy');

describe('experimentMethods', () => {
  test('the six methods of the issue, in order, from the preset cosine 256/48, cycle 20, 60 steps', () => {
    const cyclic = { lMax: 256, lMin: 48, cycle: 20 };
    assert.deepEqual(
      experimentMethods(toy).map((m) => [m.name, m.schedule]),
      [
        ['siri-cosine', { kind: 'cosine', ...cyclic }],
        ['siri-stair', { kind: 'stair', ...cyclic }],
        ['siri-stair-cosine', { kind: 'stair-cosine', ...cyclic }],
        ['dapo-lmax', { kind: 'constant', lMax: 256 }],
        // DeepScaleR-style: lMin for the first half (30 of 60 steps), then lMax.
        [
          'deepscaler',
          {
            kind: 'stages',
            stages: [
              { fromStep: 0, length: 48 },
              { fromStep: 30, length: 256 },
            ],
          },
        ],
        ['truncation-lmin', { kind: 'constant', lMax: 48 }],
      ],
    );
  });

  test('the stage switch follows totalSteps (odd counts round down) and a cycle phase is kept', () => {
    const base = { ...toy, totalSteps: 161, schedule: { ...toy.schedule, phase: 5 } };
    const byName = new Map(experimentMethods(base).map((m) => [m.name, m.schedule]));
    const stages = byName.get('deepscaler');
    assert.ok(stages?.kind === 'stages');
    assert.equal(stages.stages[1]?.fromStep, 80);
    assert.deepEqual(byName.get('siri-stair'), { kind: 'stair', lMax: 256, lMin: 48, cycle: 20, phase: 5 });
  });

  test('a method config differs from the base in its schedule alone', () => {
    const method = experimentMethods(toy)[3];
    assert.ok(method);
    const config = methodConfig(toy, method);
    assert.deepEqual(config.schedule, { kind: 'constant', lMax: 256 });
    assert.deepEqual({ ...config, schedule: toy.schedule }, toy);
  });

  test('a subset keeps the experiment order, whatever order it is given in', () => {
    assert.deepEqual(
      experimentMethods(toy, ['truncation-lmin', 'siri-cosine', 'deepscaler']).map((m) => m.name),
      ['siri-cosine', 'deepscaler', 'truncation-lmin'],
    );
  });

  test('an unknown or empty choice names the valid methods', () => {
    assert.throws(
      () => experimentMethods(toy, ['siri-cosine', 'dapo']),
      /unknown method "dapo"; the methods are siri-cosine, siri-stair, siri-stair-cosine, dapo-lmax, deepscaler, truncation-lmin/,
    );
    assert.throws(() => experimentMethods(toy, []), /no method chosen; the methods are siri-cosine/);
  });

  test('a base schedule without cycles is refused', () => {
    assert.throws(
      () => experimentMethods({ ...toy, schedule: { kind: 'constant', lMax: 64 } }),
      /needs a cyclic base schedule \(cosine, stair or stair-cosine\), got constant/,
    );
  });
});

describe('experimentRuns', () => {
  const methods = experimentMethods(toy, ['siri-cosine', 'deepscaler']);

  test('one seed (the config seed) keeps the single-seed layout: runs named after their method', () => {
    const runs = experimentRuns(toy, methods);
    assert.deepEqual(
      runs.map((r) => [r.name, r.seed, r.evaluateBase]),
      [
        ['siri-cosine', 0, true],
        ['deepscaler', 0, false],
      ],
    );
    assert.deepEqual(experimentRuns(toy, methods, [0]), runs);
  });

  test('several seeds: seed-major, <method>-seed<S>, the base evaluated once per seed', () => {
    const runs = experimentRuns(toy, methods, [2, 0]);
    assert.deepEqual(
      runs.map((r) => [r.name, r.seed, r.evaluateBase]),
      [
        ['siri-cosine-seed2', 2, true],
        ['deepscaler-seed2', 2, false],
        ['siri-cosine-seed0', 0, true],
        ['deepscaler-seed0', 0, false],
      ],
    );
    // A single seed other than the config's is named too, so that it never shares a directory with seed 0.
    assert.deepEqual(
      experimentRuns(toy, methods, [3]).map((r) => r.name),
      ['siri-cosine-seed3', 'deepscaler-seed3'],
    );
  });

  test("a run's config is the method's schedule with the run's seed, nothing else", () => {
    const [, second] = experimentRuns(toy, methods, [5]);
    assert.ok(second);
    const config = runConfig(toy, second);
    assert.equal(config.seed, 5);
    assert.equal(config.schedule.kind, 'stages');
    assert.deepEqual({ ...config, seed: toy.seed, schedule: toy.schedule }, toy);
  });

  test('bad seeds are named', () => {
    assert.throws(() => experimentRuns(toy, methods, []), /no seed chosen/);
    assert.throws(() => experimentRuns(toy, methods, [1, 2, 1]), /seed 1 is given twice/);
    assert.throws(() => experimentRuns(toy, methods, [-1]), /seed -1 is not a non-negative integer/);
    assert.throws(() => experimentRuns(toy, methods, [1.5]), /seed 1.5 is not a non-negative integer/);
  });
});

describe('compareAcrossSeeds', () => {
  const score = (label: string, seed: number, accuracy: number, meanLength = 100) => ({
    label,
    seed,
    accuracy,
    meanLength,
  });

  test('mean ± SE over seeds and the difference to the reference paired by seed (hand-computed)', () => {
    const rows = compareAcrossSeeds(
      [
        score('high', 0, 0.9, 70),
        score('high', 1, 0.8, 80),
        score('high', 2, 0.85, 75),
        score('stages', 0, 0.92, 60),
        score('stages', 1, 0.83, 62),
        score('stages', 2, 0.84, 64),
      ],
      'high',
    );
    const [high, stages] = rows;
    assert.ok(high && stages);
    // high: mean 0.85; deviations ±0.05, 0 → sd = sqrt(0.005 / 2) = 0.05, SE = 0.05 / √3.
    assert.ok(Math.abs(high.meanAccuracy - 0.85) < 1e-12);
    assert.ok(Math.abs((high.accuracyStandardError ?? NaN) - 0.05 / Math.sqrt(3)) < 1e-12);
    assert.equal(high.meanLength, 75);
    assert.equal(high.versusReference, null);
    // stages − high per seed: +0.02, +0.03, −0.01 → mean 0.04/3; deviations 0.00667, 0.01667, −0.02333;
    // sum of squares 0.000044444 + 0.000277778 + 0.000544444 = 0.000866667 → sd² 0.000433333, SE² / 3.
    const versus = stages.versusReference;
    assert.ok(versus);
    assert.equal(versus.seeds, 3);
    assert.ok(Math.abs(versus.difference - 0.04 / 3) < 1e-12);
    assert.ok(Math.abs((versus.standardError ?? NaN) - Math.sqrt(0.000433333333 / 3)) < 1e-9);
    assert.deepEqual(stages.seeds, [0, 1, 2]);
  });

  test('only seeds both have are paired; one seed has no SE; a repeated seed is an error', () => {
    const [, other] = compareAcrossSeeds(
      [score('ref', 0, 0.5), score('ref', 1, 0.6), score('other', 1, 0.7), score('other', 2, 0.1)],
      'ref',
    );
    assert.ok(other);
    assert.deepEqual(other.versusReference, {
      difference: 0.7 - 0.6,
      standardError: null,
      seeds: 1,
      problemStandardError: null,
    });
    assert.throws(
      () => compareAcrossSeeds([score('ref', 0, 0.5), score('ref', 0, 0.6)], 'ref'),
      /ref has two scores for seed 0/,
    );
  });
});

describe("problemStandardError: the difference's SE over the held-out problems (hand-computed)", () => {
  test("one dataset: each problem's difference averaged over the seeds, then sd / √P", () => {
    // seed 0: label − ref per problem = 0.5, 0, −0.5; seed 1: 0, 0.5, 0.5 → δ = 0.25, 0.25, 0.
    // mean 1/6; squared deviations 1/144 + 1/144 + 4/144 = 1/24; sd² = 1/48; SE² = 1/144 → SE = 1/12.
    const se = problemStandardError([
      { scores: { a: [1, 0.5, 0] }, reference: { a: [0.5, 0.5, 0.5] } },
      { scores: { a: [1, 1, 0.5] }, reference: { a: [1, 0.5, 0] } },
    ]);
    assert.ok(Math.abs((se ?? NaN) - 1 / 12) < 1e-12, String(se));
  });

  test("two datasets: pass@1 is the mean of the datasets' means, so SE² = Σ SE_d² / D²", () => {
    // Dataset b: δ = 0.5, 0.5 → SE 0; dataset a as above, SE 1/12 → √(1/144 + 0) / 2 = 1/24.
    const se = problemStandardError([
      { scores: { a: [1, 0.5, 0], b: [1, 0] }, reference: { a: [0.5, 0.5, 0.5], b: [0, 0] } },
      { scores: { a: [1, 1, 0.5], b: [1, 1] }, reference: { a: [1, 0.5, 0], b: [1, 0] } },
    ]);
    assert.ok(Math.abs((se ?? NaN) - 1 / 24) < 1e-12, String(se));
  });

  test("null without every paired seed's rates, with differing problem sets, or with one problem", () => {
    const rates = { a: [1, 0] };
    assert.equal(problemStandardError([]), null);
    assert.equal(problemStandardError([{ scores: rates, reference: undefined }]), null);
    assert.equal(problemStandardError([{ scores: rates, reference: { a: [1, 0, 1] } }]), null);
    assert.equal(problemStandardError([{ scores: rates, reference: { b: [1, 0] } }]), null);
    assert.equal(problemStandardError([{ scores: { a: [1] }, reference: { a: [0] } }]), null);
  });

  test('compareAcrossSeeds carries it on the difference to the reference', () => {
    const [, other] = compareAcrossSeeds(
      [
        { label: 'ref', seed: 0, accuracy: 0.5, meanLength: 1, problemPassRates: { a: [0.5, 0.5, 0.5] } },
        { label: 'ref', seed: 1, accuracy: 0.5, meanLength: 1, problemPassRates: { a: [1, 0.5, 0] } },
        { label: 'x', seed: 0, accuracy: 0.5, meanLength: 1, problemPassRates: { a: [1, 0.5, 0] } },
        { label: 'x', seed: 1, accuracy: 2.5 / 3, meanLength: 1, problemPassRates: { a: [1, 1, 0.5] } },
      ],
      'ref',
    );
    assert.ok(Math.abs((other?.versusReference?.problemStandardError ?? NaN) - 1 / 12) < 1e-12);
  });
});

describe('siri experiment (spawned): bad choices exit 2 (usage) before anything starts', () => {
  function siri(...args: string[]): { status: number | null; stderr: string } {
    const r = spawnSync(process.execPath, ['bin/siri.mjs', ...args], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, stderr: r.stderr };
  }

  test('--methods with an unknown name', () => {
    const r = siri('experiment', 'toy', '--methods', 'siri-cosine,dapo');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown method "dapo"; the methods are siri-cosine, siri-stair/);
  });

  test('--seeds that are not distinct non-negative integers', () => {
    const bad = siri('experiment', 'toy', '--seeds', '0,x');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--seeds: "x" is not a non-negative integer \(example: --seeds 0,1,2\)/);
    const twice = siri('experiment', 'toy', '--seeds', '0,1,0');
    assert.equal(twice.status, 2);
    assert.match(twice.stderr, /--seeds: seed 0 is given twice/);
  });

  test('--preset with an unknown name, and --preset with --config', () => {
    const unknown = siri('experiment', 'toy', '--preset', 'toy-nope');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown --preset "toy-nope" \(presets: .*toy-pick-steps/);
    const both = siri('experiment', 'toy', '--preset', 'toy', '--config', 'configs/toy-pick-steps.yaml');
    assert.equal(both.status, 2);
    assert.match(both.stderr, /give either --config or --preset, not both/);
  });
});
