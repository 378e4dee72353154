// The toy experiment's methods (siri/experiment.ts): each method's schedule written out by hand from the
// issue's list for the `toy` preset (cosine 256/48, cycle 20, 60 steps), the --methods subset and its
// errors, and the spawned `siri experiment` rejecting bad choices before it starts anything.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { presetConfig } from '../../siri/config';
import { experimentMethods, methodConfig } from '../../siri/experiment';

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

  test('--preset with an unknown name, and --preset with --config', () => {
    const unknown = siri('experiment', 'toy', '--preset', 'toy-nope');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown --preset "toy-nope" \(presets: .*toy-pick-steps/);
    const both = siri('experiment', 'toy', '--preset', 'toy', '--config', 'configs/toy-pick-steps.yaml');
    assert.equal(both.status, 2);
    assert.match(both.stderr, /give either --config or --preset, not both/);
  });
});
