// Hostile inputs (model outputs are untrusted): every grade returns in time, scores 0 and says why.
// Limits under test: 1,000 ms / 2,000,000 steps / depth 200 per grade, answers ≤ 2,000 characters,
// responses ≤ 2,000,000 characters.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gradeResponse, extractAnswer, isEquivalent, type GradeResult } from '../../grader/node/index';
import * as pure from '../../grader/index';

const MB = 1 << 20;
/** Default time limit plus scheduling slack on a shared 2-core machine. */
const WALL_LIMIT_MS = 1500;

function timed(response: string, gold: string, options = {}): { result: GradeResult; ms: number } {
  const start = performance.now();
  const result = gradeResponse(response, gold, options);
  return { result, ms: performance.now() - start };
}

function assertScoresZero(response: string, gold: string, reason: string): void {
  const { result, ms } = timed(response, gold);
  assert.equal(result.correct, false);
  assert.equal(result.reason, reason);
  assert.ok(ms < WALL_LIMIT_MS, `took ${ms} ms`);
}

describe('hostile inputs', () => {
  test('100,000 nested braces in the box: refused as too large, quickly', () => {
    assertScoresZero(
      '\\boxed{' + '{'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}',
      '1',
      'answer-too-large',
    );
  });

  test('100,000 nested braces as the gold', () => {
    assertScoresZero('\\boxed{1}', '{'.repeat(100_000) + '1' + '}'.repeat(100_000), 'gold-too-large');
  });

  test('nesting deeper than the parser limit (900 braces, 990 parentheses, 150 \\sqrt)', () => {
    assertScoresZero('\\boxed{' + '{'.repeat(900) + '1' + '}'.repeat(900) + '}', '1', 'too-deep');
    assertScoresZero('\\boxed{' + '('.repeat(990) + '1' + ')'.repeat(990) + '}', '1', 'too-deep');
    assertScoresZero('\\boxed{' + '\\sqrt{'.repeat(150) + '2' + '}'.repeat(150) + '}', '2', 'too-deep');
  });

  test('100,000 unclosed braces after \\boxed', () => {
    assertScoresZero('\\boxed{' + '{'.repeat(100_000), '1', 'unbalanced-braces');
  });

  test('9^{9^{9^{9}}} is not evaluated exactly and compares unequal to finite values', () => {
    assertScoresZero('\\boxed{9^{9^{9^{9}}}}', '1', 'mismatch');
    // Both overflow to infinity as doubles: that must not make them equal.
    assertScoresZero('\\boxed{9^{9^{9^{9}}}}', '9^{9^{9^{9}}}+1', 'mismatch');
    assert.equal(gradeResponse('\\boxed{9^{9^{9^{9}}}}', '9^{9^{9^{9}}}').correct, true); // same text
  });

  test('a 1 MB response is scanned in linear time', () => {
    const junk = 'x'.repeat(MB);
    const { result, ms } = timed(junk + ' so \\boxed{42}', '42');
    assert.deepEqual(result, { correct: true, extracted: '42', reason: 'match' });
    assert.ok(ms < 200, `took ${ms} ms`);
    assertScoresZero('the answer is '.repeat(MB / 14), '42', 'no-answer');
    assertScoresZero('\\boxed{'.repeat(MB / 7), '1', 'unbalanced-braces');
    assertScoresZero('}'.repeat(MB), '1', 'no-answer');
    assertScoresZero('<think>'.repeat(MB / 7), '1', 'unclosed-think');
    // Look-alike commands everywhere must not make the backwards search quadratic.
    const lookalikes = timed('\\boxedx\\fboxy'.repeat(MB / 13) + '\\boxed{1}', '1');
    assert.equal(lookalikes.result.correct, true);
    assert.ok(lookalikes.ms < 300, `took ${lookalikes.ms} ms`);
  });

  test('a response over the size cap is refused before any scanning', () => {
    assertScoresZero('x'.repeat(2_000_001), '1', 'input-too-large');
  });

  test('lone surrogates (invalid UTF-16) score 0; the extracted text is made well-formed', () => {
    const { result } = timed('\\boxed{\uD800}', '1');
    assert.deepEqual(result, { correct: false, extracted: '\uFFFD', reason: 'invalid-utf16' });
    assertScoresZero('\\boxed{1\uDC00}', '1', 'invalid-utf16');
    assertScoresZero('\\boxed{1}', '1\uD800', 'invalid-utf16');
    // A surrogate outside the answer does not matter; a valid pair inside it is fine.
    assert.equal(gradeResponse('junk \uD800 \\boxed{1}', '1').correct, true);
    assert.equal(gradeResponse('\\boxed{\\text{\uD83D\uDE00}}', '\\text{\uD83D\uDE00}').correct, true);
  });

  test('ReDoS-shaped strings return quickly', () => {
    const shapes: [string, string][] = [
      ['\\boxed{' + '$'.repeat(1990) + '}', '1'],
      ['\\boxed{' + '1,000'.repeat(390) + '}', '1'],
      ['\\boxed{' + '\\frac'.repeat(390) + '}', '1'],
      ['\\boxed{' + 'x^'.repeat(990) + '2}', '1'],
      ['\\boxed{' + '1\\pm'.repeat(390) + '1}', '1'],
      ['\\boxed{' + '|x'.repeat(900) + '}', '1'],
      ['\\boxed{' + '\\text{'.repeat(300) + 'a' + '}'.repeat(300) + '}', 'a'],
      ['\\boxed{' + '\\left('.repeat(300) + '}', '1'],
      ['answer: '.repeat(100_000), '1'],
      ['$'.repeat(200_000) + '\\boxed{1}' + '$'.repeat(200_000), '1'],
      ['\\boxed{1}' + ' and \\boxed{1}'.repeat(50_000), '1'],
    ];
    for (const [response, gold] of shapes) {
      for (const options of [
        {},
        { answerIs: true, hashes: true, lastLine: true, think: 'ignore' as const },
      ]) {
        const { ms } = timed(response, gold, options);
        assert.ok(ms < WALL_LIMIT_MS, `${response.slice(0, 30)} took ${ms} ms`);
      }
    }
  });

  test('the deterministic step limit stops expensive comparisons', () => {
    const items = Array.from({ length: 120 }, (_, i) => `\\sin(x+${i})`);
    const response = '\\boxed{' + items.join(',') + '}';
    const gold = [...items].reverse().join(',');
    assert.equal(gradeResponse(response, gold).reason, 'match');
    assert.deepEqual(gradeResponse(response, gold, { maxSteps: 20_000 }).reason, 'timeout');
  });

  test('the time limit stops a grade even when steps remain', () => {
    const items = Array.from({ length: 120 }, (_, i) => `\\sin(x+${i})`);
    const result = gradeResponse('\\boxed{' + items.join(',') + '}', [...items].reverse().join(','), {
      timeoutMs: 0,
      maxSteps: 1e12,
    });
    assert.equal(result.reason, 'timeout');
  });

  test('without a clock (the pure API workflows use) only the deterministic step limit applies', () => {
    const items = Array.from({ length: 120 }, (_, i) => `\\sin(x+${i})`);
    const response = '\\boxed{' + items.join(',') + '}';
    const gold = [...items].reverse().join(',');
    assert.equal(pure.gradeResponse(response, gold, { timeoutMs: 0 }).reason, 'match');
    assert.equal(pure.gradeResponse(response, gold, { maxSteps: 20_000 }).reason, 'timeout');
  });

  test('the largest lists the size cap allows are compared within the limit', () => {
    const numbers = Array.from({ length: 450 }, (_, i) => `${i}`);
    for (const grade of [gradeResponse, pure.gradeResponse]) {
      const start = performance.now();
      const result = grade('\\boxed{' + numbers.join(',') + '}', [...numbers].reverse().join(','));
      const ms = performance.now() - start;
      assert.ok(result.reason === 'match' || result.reason === 'timeout', result.reason);
      assert.ok(ms < WALL_LIMIT_MS, `took ${ms} ms`);
    }
  });

  test('non-string input is refused, never thrown', () => {
    assert.equal(gradeResponse(undefined as unknown as string, '1').reason, 'invalid-input');
    assert.equal(gradeResponse('\\boxed{1}', null as unknown as string).reason, 'invalid-input');
    assert.equal(extractAnswer(42 as unknown as string), null);
    assert.equal(isEquivalent({} as unknown as string, '1'), false);
  });

  test('random strings and LaTeX token soup never throw and stay within the limit', () => {
    const pieces = [
      '\\boxed{',
      '}',
      '{',
      '\\frac',
      '\\sqrt',
      '^',
      '_',
      '(',
      ')',
      '[',
      ']',
      '\\{',
      '\\}',
      ',',
      '=',
      '<',
      'x',
      '2',
      '.',
      '\\pi',
      '\\pm',
      '\\text{',
      'a',
      '\\left(',
      '\\right)',
      '|',
      '!',
      '%',
      '\\begin{pmatrix}',
      '\\end{pmatrix}',
      '&',
      '\\\\',
      '</think>',
      '<think>',
      '$',
      ' ',
      '\uD800',
      '\\infty',
      '\\cup',
      'e',
      'i',
      '9',
    ];
    const soup = fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(soup, fc.string({ unit: 'binary', maxLength: 200 })), soup, (response, gold) => {
        const start = performance.now();
        const result = gradeResponse(response, gold);
        const ms = performance.now() - start;
        assert.equal(typeof result.correct, 'boolean');
        assert.equal(typeof result.reason, 'string');
        assert.notEqual(
          result.reason,
          'internal-error',
          `${JSON.stringify(response)} vs ${JSON.stringify(gold)}`,
        );
        return ms < WALL_LIMIT_MS;
      }),
      { numRuns: 1500, seed: 5 },
    );
  });
});
