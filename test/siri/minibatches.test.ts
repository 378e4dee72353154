// PPO mini-batch splitting and the combination of per-step statistics (siri/minibatches.ts), against
// hand-computed cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  combineMiniBatchStats,
  inferredGroupSizes,
  miniBatchRanges,
  type MiniBatchStats,
} from '../../siri/minibatches';

test('mini-batches are contiguous runs of whole groups, as even in groups as possible', () => {
  // 5 groups of 4 into 2: 3 groups then 2.
  assert.deepEqual(miniBatchRanges([4, 4, 4, 4, 4], 2), [
    { start: 0, end: 12, groups: 3 },
    { start: 12, end: 20, groups: 2 },
  ]);
  // Uneven group sizes (e.g. a group with failed samples) stay whole.
  assert.deepEqual(miniBatchRanges([3, 8, 1, 8], 3), [
    { start: 0, end: 11, groups: 2 },
    { start: 11, end: 12, groups: 1 },
    { start: 12, end: 20, groups: 1 },
  ]);
  // More mini-batches than groups (dynamic sampling kept fewer): one group each.
  assert.deepEqual(miniBatchRanges([2, 2], 16), [
    { start: 0, end: 2, groups: 1 },
    { start: 2, end: 4, groups: 1 },
  ]);
  assert.deepEqual(miniBatchRanges([8, 8, 8], 1), [{ start: 0, end: 24, groups: 3 }]);
  assert.deepEqual(miniBatchRanges([], 4), []);
  // An empty group keeps its place and adds no sequences.
  assert.deepEqual(miniBatchRanges([2, 0, 2, 2], 2), [
    { start: 0, end: 2, groups: 2 },
    { start: 2, end: 6, groups: 2 },
  ]);
});

test('mini-batch splitting rejects what it cannot split, naming the value', () => {
  assert.throws(() => miniBatchRanges([4], 0), /miniBatches must be a positive integer, got 0/);
  assert.throws(() => miniBatchRanges([4, -1], 1), /groupSizes\[1\] = -1/);
});

test('batch files without group sizes: groups of groupSize when it divides, else one per sequence', () => {
  assert.deepEqual(inferredGroupSizes(8, 4), [4, 4]);
  assert.deepEqual(inferredGroupSizes(6, 4), [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(inferredGroupSizes(0, 4), []);
});

test('update statistics: token-weighted means, mean grad norm, summed counts', () => {
  const a: MiniBatchStats = {
    loss: 1,
    clipFracLow: 0,
    clipFracHigh: 0,
    approxKl: 0,
    entropy: 2,
    gradNorm: 3,
    tokens: 100,
    microBatches: 1,
  };
  const b: MiniBatchStats = {
    loss: -2,
    clipFracLow: 0.1,
    clipFracHigh: 0.4,
    approxKl: 0.02,
    entropy: 1,
    gradNorm: 1,
    tokens: 300,
    microBatches: 2,
  };
  const combined = combineMiniBatchStats([a, b]);
  // (1·100 − 2·300) / 400 = −1.25; (0.1·300)/400 = 0.075; (0.4·300)/400 = 0.3; (2·100 + 1·300)/400 = 1.25
  assert.ok(Math.abs(combined.loss - -1.25) < 1e-12);
  assert.ok(Math.abs(combined.clipFracLow - 0.075) < 1e-12);
  assert.ok(Math.abs(combined.clipFracHigh - 0.3) < 1e-12);
  assert.ok(Math.abs(combined.approxKl - 0.015) < 1e-12);
  assert.ok(Math.abs(combined.entropy - 1.25) < 1e-12);
  assert.equal(combined.gradNorm, 2);
  assert.equal(combined.tokens, 400);
  assert.equal(combined.microBatches, 3);
  assert.deepEqual(combineMiniBatchStats([b]), b);
  // Only the statistics: the engine's result also has its optimizer step count, which once leaked into
  // metrics.jsonl as the training step (1501 for a base trained 1,500 SFT steps).
  const engineResult = { ...b, step: 1501, refKl: 0 };
  assert.deepEqual(combineMiniBatchStats([engineResult]), b);
  assert.throws(() => combineMiniBatchStats([]), /no mini-batch statistics/);
});
