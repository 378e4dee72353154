// The length-capped reward: clipping to L, truncation, answer extraction and the per-sample record.
// The tokenizer here is a real (character-level) one and the grader a real \boxed{} matcher: both are
// injected exactly as the trainer injects the model tokenizer and grader/.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clipToCap,
  lengthCappedReward,
  lengthCappedRewardFromText,
  summarizeRewards,
  type GradeFn,
} from '../../siri/reward';

// Character-level tokenizer: one token per UTF-16 code unit.
const encode = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const decode = (ids: readonly number[]): string => String.fromCharCode(...ids);

// Grader: the last complete \boxed{...} is the answer; correct when it equals the gold string.
const grade: GradeFn = (text, gold) => {
  const all = [...text.matchAll(/\\boxed\{([^}]*)\}/g)];
  const extracted = all.length ? (all[all.length - 1]?.[1] ?? null) : null;
  if (extracted === null) return { correct: false, extracted: null, reason: 'no boxed answer' };
  return { correct: extracted.trim() === gold, extracted };
};

const deps = { grade, decode };

describe('length-capped reward', () => {
  test('a response that ends within the cap with the right answer scores 1', () => {
    const text = 'so x = 7, \\boxed{7}';
    const r = lengthCappedReward({ tokenIds: encode(text), finishReason: 'stop' }, '7', 64, deps);
    assert.deepEqual(r, {
      reward: 1,
      correct: true,
      truncated: false,
      length: text.length,
      answerFound: true,
      extracted: '7',
    });
  });

  test('an answer after the cap is cut off: truncated, no answer, reward 0', () => {
    const text = 'wait, let me check again ... \\boxed{7}';
    const r = lengthCappedReward({ tokenIds: encode(text), finishReason: 'stop' }, '7', 20, deps);
    assert.equal(r.reward, 0);
    assert.equal(r.truncated, true);
    assert.equal(r.answerFound, false);
    assert.equal(r.length, 20);
    assert.equal(r.reason, 'no boxed answer');
  });

  test('cut at L but the answer came before the cut: still rewarded', () => {
    const text = '\\boxed{42} and then more thinking that never ends';
    const r = lengthCappedReward(
      { tokenIds: encode(text).slice(0, 30), finishReason: 'length' },
      '42',
      30,
      deps,
    );
    assert.equal(r.truncated, true);
    assert.equal(r.reward, 1);
    assert.equal(r.extracted, '42');
  });

  test('a wrong answer is found but scores 0', () => {
    const r = lengthCappedReward({ tokenIds: encode('\\boxed{41}'), finishReason: 'stop' }, '42', 100, deps);
    assert.deepEqual([r.reward, r.correct, r.answerFound, r.extracted], [0, false, true, '41']);
  });

  test('exactly L tokens ending on its own is not truncated; the cap removes trailing tokens', () => {
    const ids = encode('\\boxed{1}');
    assert.equal(clipToCap({ tokenIds: ids, finishReason: 'stop' }, ids.length).truncated, false);
    assert.equal(clipToCap({ tokenIds: ids, finishReason: 'length' }, ids.length).truncated, true);
    assert.deepEqual(clipToCap({ tokenIds: ids, finishReason: 'stop' }, 3).tokenIds, ids.slice(0, 3));
    assert.throws(() => clipToCap({ tokenIds: ids, finishReason: 'stop' }, -1), RangeError);
  });

  test('a grader saying "correct" without an extracted answer does not earn the reward', () => {
    const r = lengthCappedRewardFromText({ text: 'anything', length: 8, truncated: false }, 'x', () => ({
      correct: true,
      extracted: null,
    }));
    assert.equal(r.reward, 0);
    assert.equal(r.correct, false);
  });

  test('summary over a batch', () => {
    const records = [
      lengthCappedReward({ tokenIds: encode('\\boxed{1}'), finishReason: 'stop' }, '1', 100, deps),
      lengthCappedReward({ tokenIds: encode('\\boxed{2}'), finishReason: 'stop' }, '1', 100, deps),
      lengthCappedReward({ tokenIds: encode('no answer yet'), finishReason: 'length' }, '1', 13, deps),
      lengthCappedReward({ tokenIds: encode('x \\boxed{1}'), finishReason: 'stop' }, '1', 100, deps),
    ];
    assert.deepEqual(summarizeRewards(records), {
      samples: 4,
      meanReward: 0.5,
      truncationRate: 0.25,
      answerFoundRate: 0.75,
      meanLength: (9 + 9 + 13 + 11) / 4,
    });
  });
});
