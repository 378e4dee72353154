// GRPO / Dr. GRPO advantages against hand-computed values (VeRL's convention), the token broadcast, and
// DAPO's dynamic-sampling filter and accumulation.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addRolloutBatch,
  broadcastToTokens,
  broadcastToTokensPadded,
  filterInformativeGroups,
  groupMeanStd,
  grpoAdvantages,
  grpoAdvantagesByGroup,
  startDynamicSampling,
} from '../../siri/advantages';

function assertClose(actual: readonly number[], expected: readonly number[], tol = 1e-12): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    assert.ok(Math.abs(a - (expected[i] ?? NaN)) <= tol, `[${i}] ${a} vs ${expected[i]}`),
  );
}

describe('GRPO advantages', () => {
  test('one correct of four: mean 0.25, unbiased std 0.5', () => {
    // var = (0.75² + 3·0.25²) / (4 − 1) = 0.75 / 3 = 0.25 → std 0.5
    assert.deepEqual(groupMeanStd([1, 0, 0, 0]), { mean: 0.25, std: 0.5 });
    assertClose(grpoAdvantages([1, 0, 0, 0]), [
      0.75 / 0.500001,
      -0.25 / 0.500001,
      -0.25 / 0.500001,
      -0.25 / 0.500001,
    ]);
    assertClose(
      grpoAdvantages([1, 0, 0, 0]),
      [1.499997000006, -0.499999000002, -0.499999000002, -0.499999000002],
      1e-11,
    );
  });

  test('two of four: std √(1/3), A = ±0.5 / (0.57735… + 1e-6)', () => {
    const s = Math.sqrt(1 / 3) + 1e-6;
    assertClose(grpoAdvantages([1, 1, 0, 0]), [0.5 / s, 0.5 / s, -0.5 / s, -0.5 / s]);
    assert.ok(Math.abs((grpoAdvantages([1, 1, 0, 0])[0] ?? 0) - 0.866024) < 1e-6);
  });

  test('uniform groups give zero advantage', () => {
    assert.deepEqual(grpoAdvantages([1, 1, 1]), [0, 0, 0]);
    assert.deepEqual(grpoAdvantages([0, 0]), [0, 0]);
  });

  test('a group of one: mean 0 and std 1 (VeRL), so A = R / (1 + ε)', () => {
    assert.deepEqual(groupMeanStd([1]), { mean: 0, std: 1 });
    assertClose(grpoAdvantages([1]), [1 / (1 + 1e-6)]);
    assertClose(grpoAdvantages([0]), [0]);
    assertClose(grpoAdvantages([1], { normalizeStd: false }), [1]);
  });

  test('Dr. GRPO skips the std division', () => {
    assertClose(grpoAdvantages([1, 0, 0, 0], { normalizeStd: false }), [0.75, -0.25, -0.25, -0.25]);
    assertClose(grpoAdvantages([0.5, 1, 0], { normalizeStd: false }), [0, 0.5, -0.5]);
  });

  test('by group id: interleaved samples are normalised within their own prompt', () => {
    const adv = grpoAdvantagesByGroup([1, 0, 0, 1, 0, 1], ['a', 'b', 'a', 'b', 'a', 'c']);
    // a: [1, 0, 0] mean 1/3, std √(1/3); b: [0, 1] mean 0.5, std √0.5; c: group of one
    const sa = Math.sqrt(1 / 3) + 1e-6;
    const sb = Math.sqrt(0.5) + 1e-6;
    assertClose(adv, [2 / 3 / sa, -0.5 / sb, -(1 / 3) / sa, 0.5 / sb, -(1 / 3) / sa, 1 / (1 + 1e-6)]);
    assert.throws(() => grpoAdvantagesByGroup([1], ['a', 'b']), RangeError);
  });

  test('property: advantages sum to 0 and (normalised) have std ≈ 1 in a mixed group', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 1), { minLength: 2, maxLength: 64 }), (rewards) => {
        const adv = grpoAdvantages(rewards);
        const sum = adv.reduce((s, a) => s + a, 0);
        if (Math.abs(sum) > 1e-9) return false;
        if (rewards.every((r) => r === rewards[0])) return adv.every((a) => a === 0);
        const { std } = groupMeanStd(adv);
        return Math.abs(std - 1) < 1e-5;
      }),
      { numRuns: 300 },
    );
  });
});

describe('token broadcast', () => {
  test('every token of a response gets its sample advantage', () => {
    assert.deepEqual(broadcastToTokens([0.5, -1, 2], [2, 0, 3]), [[0.5, 0.5], [], [2, 2, 2]]);
  });

  test('padded matrix with a mask', () => {
    const { values, mask } = broadcastToTokensPadded([0.5, -1], [2, 3], 3);
    assert.deepEqual([...values], [0.5, 0.5, 0, -1, -1, -1]);
    assert.deepEqual([...mask], [1, 1, 0, 1, 1, 1]);
    assert.throws(() => broadcastToTokensPadded([1], [4], 3), /more than width/);
  });
});

describe('DAPO dynamic sampling', () => {
  const g = (id: string, rewards: number[]): { id: string; rewards: number[] } => ({ id, rewards });

  test('drops groups whose rewards are all equal, with counts', () => {
    const { kept, counts } = filterInformativeGroups([
      g('all-right', [1, 1, 1]),
      g('mixed', [1, 0, 1]),
      g('all-wrong', [0, 0, 0]),
      g('single', [1]),
      g('mixed2', [0, 1, 0]),
    ]);
    assert.deepEqual(
      kept.map((k) => k.id),
      ['mixed', 'mixed2'],
    );
    assert.deepEqual(counts, { kept: 2, dropped: 3, droppedAllCorrect: 2, droppedAllIncorrect: 1 });
  });

  test('keeps sampling until the batch is full, then trims to batchPrompts', () => {
    const config = { enabled: true, batchPrompts: 3, maxExtraRolloutBatches: 2 };
    const first = addRolloutBatch(
      startDynamicSampling<{ id: string; rewards: number[] }>(),
      [g('a', [1, 1]), g('b', [1, 0]), g('c', [0, 0]), g('d', [0, 1])],
      config,
    );
    assert.equal(first.status, 'need-more');
    assert.deepEqual(first.batch, []);
    const second = addRolloutBatch(first.state, [g('e', [1, 0]), g('f', [0, 1])], config);
    assert.equal(second.status, 'full');
    assert.deepEqual(
      second.batch.map((x) => x.id),
      ['b', 'd', 'e'],
    );
    assert.equal(second.overflowGroups, 1);
    assert.deepEqual(
      { ...second.state, kept: second.state.kept.length },
      {
        kept: 4,
        rolloutBatches: 2,
        sampledGroups: 6,
        droppedGroups: 2,
        droppedAllCorrect: 1,
        droppedAllIncorrect: 1,
      },
    );
  });

  test('stops at the cap on extra rollout batches and trains on what was kept', () => {
    const config = { enabled: true, batchPrompts: 4, maxExtraRolloutBatches: 1 };
    const first = addRolloutBatch(
      startDynamicSampling<{ id: string; rewards: number[] }>(),
      [g('a', [1, 1]), g('b', [1, 0])],
      config,
    );
    assert.equal(first.status, 'need-more');
    const second = addRolloutBatch(first.state, [g('c', [0, 0]), g('d', [0, 0])], config);
    assert.equal(second.status, 'cap-reached');
    assert.deepEqual(
      second.batch.map((x) => x.id),
      ['b'],
    );
    assert.equal(second.state.droppedGroups, 3);
    // With no extra batches allowed, the first batch decides.
    const none = addRolloutBatch(
      startDynamicSampling<{ id: string; rewards: number[] }>(),
      [g('a', [0, 0])],
      {
        ...config,
        maxExtraRolloutBatches: 0,
      },
    );
    assert.equal(none.status, 'cap-reached');
    assert.deepEqual(none.batch, []);
  });

  test('disabled: nothing is dropped, the first batch is the training batch', () => {
    const out = addRolloutBatch(
      startDynamicSampling<{ id: string; rewards: number[] }>(),
      [g('a', [1, 1]), g('b', [0, 0]), g('c', [1, 0])],
      {
        enabled: false,
        batchPrompts: 3,
        maxExtraRolloutBatches: 5,
      },
    );
    assert.equal(out.status, 'full');
    assert.deepEqual(
      out.batch.map((x) => x.id),
      ['a', 'b', 'c'],
    );
    assert.equal(out.state.droppedGroups, 0);
  });
});
