// toy/data.ts writes the toy data files from the seeded generator: train.jsonl and train-long.jsonl from
// `seed`, eval.jsonl from `evalSeed` when given (the leaping world's 1,000 held-out chains) or else `seed`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readToyData, toRecord, writeToyData } from '../../toy/data';
import { DEFAULT_DIFFICULTY, generateProblems } from '../../toy/problems';

const difficulty = { ...DEFAULT_DIFFICULTY, maxSteps: 6 };

test('writeToyData: train from seed, held-out from evalSeed (default seed), written as returned', () => {
  const dir = mkdtempSync(join(tmpdir(), 'siri-toy-data-'));
  try {
    const own = writeToyData(join(dir, 'own'), { seed: 3, trainCount: 40, evalCount: 12, difficulty });
    const other = writeToyData(join(dir, 'other'), {
      seed: 3,
      trainCount: 40,
      evalCount: 12,
      evalSeed: 9,
      difficulty,
    });
    const expected = (split: 'train' | 'eval', count: number, seed: number) =>
      generateProblems({ split, count, seed, difficulty }).map(toRecord);
    assert.deepEqual(readToyData(join(dir, 'own/train.jsonl')), expected('train', 40, 3));
    assert.deepEqual(readToyData(join(dir, 'own/eval.jsonl')), expected('eval', 12, 3));
    assert.deepEqual(readToyData(join(dir, 'other/train.jsonl')), expected('train', 40, 3));
    assert.deepEqual(readToyData(join(dir, 'other/eval.jsonl')), expected('eval', 12, 9));
    assert.deepEqual(other.eval.map(toRecord), expected('eval', 12, 9));
    assert.notDeepEqual(
      own.eval.map((p) => p.key),
      other.eval.map((p) => p.key),
    );
    assert.ok(
      readToyData(join(dir, 'other/train-long.jsonl')).every((r) => r.steps >= 4),
      'train-long keeps the chains of 4+ steps',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
