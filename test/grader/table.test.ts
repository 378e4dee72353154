// Runs the hand-written grading table (cases.ts): every row's verdict must match, per category.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gradeResponse, isEquivalent } from '../../grader/index';
import { EQUIVALENCE_TABLE, OPTION_TABLE, RESPONSE_TABLE } from './cases';

describe('equivalence table', () => {
  for (const [category, rows] of Object.entries(EQUIVALENCE_TABLE)) {
    test(category, () => {
      const wrong: string[] = [];
      for (const [gold, answer, expected] of rows) {
        if (isEquivalent(answer, gold) !== expected)
          wrong.push(`gold ${gold} | answer ${answer} | expected ${expected}`);
      }
      assert.deepEqual(wrong, []);
    });
  }

  test('the table has at least 300 rows, with true and false rows in every category', () => {
    const rows = Object.values(EQUIVALENCE_TABLE).flat();
    assert.ok(rows.length + RESPONSE_TABLE.length >= 300, `only ${rows.length} rows`);
    for (const [category, list] of Object.entries(EQUIVALENCE_TABLE)) {
      assert.ok(list.some((r) => r[2]) && list.some((r) => !r[2]), `${category} needs true and false rows`);
    }
  });
});

describe('whole responses', () => {
  for (const [name, response, gold, correct, reason] of RESPONSE_TABLE) {
    test(name, () => {
      const result = gradeResponse(response, gold);
      assert.equal(result.reason, reason, JSON.stringify(result));
      assert.equal(result.correct, correct);
    });
  }
});

describe('optional extraction conventions', () => {
  for (const [name, response, gold, options, correct, extracted] of OPTION_TABLE) {
    test(name, () => {
      const result = gradeResponse(response, gold, options);
      assert.equal(result.extracted, extracted, JSON.stringify(result));
      assert.equal(result.correct, correct);
    });
  }
});
