// The toy search world (toy/search.ts): a hand-checked problem and trace, every try re-derived from the
// TEXT with this test's own arithmetic (each chain line right, each comparison and move consistent, the
// boxed answer solves the problem), determinism, split disjointness, the teacher's figures, and the
// extended tokenizer (round trip, base ids unchanged).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  generateSearchProblems,
  guessRange,
  makeSearchProblem,
  SEARCH_DIFFICULTY,
  SEARCH_WORDS,
  writeSearchTrace,
  writeSearchTraces,
} from '../../toy/search';
import { Rng } from '../../toy/random';
import { buildToyTokenizerJson, toyVocabulary, ToyTokenizer } from '../../toy/tokenizer';

type Step = { op: '+' | '-' | '*'; operand: number };

/** Parses "Start with a number. Multiply by 7. Subtract 5. The result is 86. What is the number?". */
function parseProblem(text: string): { steps: Step[]; target: number } {
  const sentences = text.split('. ');
  assert.equal(sentences[0], 'Start with a number');
  const steps: Step[] = [];
  let target = NaN;
  for (const s of sentences.slice(1)) {
    const result = /^The result is (\d+)$/.exec(s);
    if (result) {
      target = Number(result[1]);
      continue;
    }
    if (s === 'What is the number?') break;
    const m = /^(Add|Subtract|Multiply by) (\d+)$/.exec(s);
    assert.ok(m, `bad sentence "${s}"`);
    steps.push({ op: m[1] === 'Add' ? '+' : m[1] === 'Subtract' ? '-' : '*', operand: Number(m[2]) });
  }
  return { steps, target };
}

const run = (x: number, steps: readonly Step[]): number =>
  steps.reduce((v, s) => (s.op === '+' ? v + s.operand : s.op === '-' ? v - s.operand : v * s.operand), x);

/** Checks every line of a trace against the problem text; returns the number of tries. */
function checkTrace(problemText: string, trace: string): number {
  const { steps, target } = parseProblem(problemText);
  const lines = trace.split('\n');
  assert.equal(lines[0], '<think>');
  const boxed = /^The answer is \\boxed\{(\d+)\}\.$/.exec(lines[lines.length - 1] ?? '');
  assert.ok(boxed, trace);
  const answer = Number(boxed[1]);
  assert.equal(run(answer, steps), target, `boxed answer does not solve ${problemText}`);
  let tries = 0;
  let lastMiss: { value: number; direction: 'larger' | 'smaller' } | null = null;
  let lastGuess = NaN;
  for (const line of lines.slice(1, -2)) {
    const tryLine = /^Try (\d+): (.*)$/.exec(line);
    const verify = /^Wait, let me verify: (.*) Correct\.$/.exec(line);
    if (tryLine || verify) {
      const guess = tryLine ? Number(tryLine[1]) : answer;
      if (tryLine && lastMiss) {
        // The new guess moves the way the comparison said.
        assert.ok(lastMiss.direction === 'larger' ? guess > lastGuess : guess < lastGuess, line);
      }
      const body = (tryLine ? tryLine[2] : verify![1]) as string;
      const equations = [...body.matchAll(/(\d+) ([+\-*]) (\d+) = (\d+)\./g)];
      assert.equal(equations.length, steps.length, line);
      let v = guess;
      equations.forEach((e, i) => {
        assert.equal(Number(e[1]), v, line);
        assert.equal(e[2], steps[i]?.op, line);
        v = run(v, [steps[i] as Step]);
        assert.equal(Number(e[4]), v, `wrong arithmetic in ${line}`);
      });
      if (tryLine) {
        tries += 1;
        lastGuess = guess;
        assert.equal(body.endsWith(' Yes, that is right.'), v === target, line);
      }
      continue;
    }
    const miss = /^Wait, (\d+) is (less|more) than (\d+), so the number is (larger|smaller)\.$/.exec(line);
    if (miss) {
      const value = Number(miss[1]);
      assert.equal(value, run(lastGuess, steps));
      assert.equal(Number(miss[3]), target);
      assert.equal(miss[2] === 'less', value < target, line);
      assert.equal(miss[4] === 'larger', value < target, line);
      lastMiss = { value, direction: miss[4] as 'larger' | 'smaller' };
      continue;
    }
    const shortcut = /^So the number is (\d+)\.$/.exec(line);
    assert.ok(shortcut, `unexpected line "${line}"`);
    assert.equal(Number(shortcut[1]), answer);
  }
  assert.equal(lines[lines.length - 2], '</think>');
  return tries;
}

describe('toy search world', () => {
  test('a hand-built problem: statement, key, answer and the guesses that stay in range', () => {
    const p = makeSearchProblem(13, [
      { op: 'mul', operand: 7 },
      { op: 'sub', operand: 5 },
    ]);
    assert.equal(
      p.problem,
      'Start with a number. Multiply by 7. Subtract 5. The result is 86. What is the number?',
    );
    assert.equal(p.answer, '13');
    assert.equal(p.key, 'find|13|*7|-5');
    // 1 * 7 - 5 = 2 ≥ 1; 60 * 7 = 420 ≤ 999: every guess in 1..60 is allowed.
    assert.deepEqual(guessRange(p.steps, SEARCH_DIFFICULTY), [1, 60]);
    // x - 9 ≥ 1 needs x ≥ 10; (x - 9) * 5 ≤ 999 holds up to 60.
    assert.deepEqual(
      guessRange(
        [
          { op: 'sub', operand: 9 },
          { op: 'mul', operand: 5 },
        ],
        SEARCH_DIFFICULTY,
      ),
      [10, 60],
    );
  });

  test('a hand-checked trace: first guess 3 below, halving moves, then a hit', () => {
    const p = makeSearchProblem(13, [
      { op: 'mul', operand: 7 },
      { op: 'sub', operand: 5 },
    ]);
    // Offset 3, below; no redundant re-checks; no shortcut (the shortcut needs a move that lands on the answer
    // after a miss, which happens here, so turn it off).
    const trace = writeSearchTrace(p, new Rng(1), {
      firstGuessOffsetWeights: [0, 0, 0, 1],
      shortcutProb: 0,
      recheckWeights: [1],
    });
    const guesses = [...trace.text.matchAll(/Try (\d+):/g)].map((m) => Number(m[1]));
    // 10 or 16 first (sign by coin), then half the distance rounded up: 3 → 1 → 0.
    assert.ok(
      JSON.stringify(guesses) === '[10,12,13]' || JSON.stringify(guesses) === '[16,14,13]',
      String(guesses),
    );
    assert.equal(trace.tries, 3);
    assert.ok(trace.text.includes('Try 13: 13 * 7 = 91. 91 - 5 = 86. Yes, that is right.'));
    assert.equal(checkTrace(p.problem, trace.text), 3);
  });

  test('2,000 teacher traces are right line by line; figures of the teacher', () => {
    const problems = generateSearchProblems({ split: 'train', count: 2000, seed: 0 });
    const traces = writeSearchTraces(problems, 7);
    let tries = 0;
    problems.forEach((p, i) => {
      const t = traces[i]!;
      assert.equal(checkTrace(p.problem, t.text), t.tries);
      tries += t.tries;
    });
    const firstHits = traces.filter((t) => t.tries === 1).length / traces.length;
    assert.ok(tries / traces.length > 2 && tries / traces.length < 3, `mean tries ${tries / traces.length}`);
    assert.ok(firstHits > 0.25 && firstHits < 0.4, `first-guess hits ${firstHits}`);
    assert.ok(traces.some((t) => t.shortcut) && traces.some((t) => t.rechecks === 2));
  });

  test('deterministic, distinct, disjoint splits, values in range', () => {
    const a = generateSearchProblems({ split: 'train', count: 500, seed: 3 });
    const b = generateSearchProblems({ split: 'train', count: 500, seed: 3 });
    assert.deepEqual(a, b);
    const held = generateSearchProblems({ split: 'eval', count: 200, seed: 3 });
    const keys = new Set(a.map((p) => p.key));
    assert.equal(keys.size, a.length);
    assert.ok(held.every((p) => !keys.has(p.key)));
    for (const p of [...a, ...held]) {
      const { steps, target } = parseProblem(p.problem);
      assert.equal(run(Number(p.answer), steps), target);
      assert.ok(steps.length >= 2 && steps.length <= 3);
      assert.ok(Number(p.answer) >= 2 && Number(p.answer) <= 30 && target >= 1 && target <= 199);
    }
    assert.deepEqual(writeSearchTraces(a, 1), writeSearchTraces(b, 1));
  });

  test('the extended tokenizer: base ids unchanged, search traces round-trip without <|unk|>', () => {
    const base = toyVocabulary();
    const extended = toyVocabulary(SEARCH_WORDS);
    assert.deepEqual(extended.slice(0, base.length), base);
    assert.equal(extended.length, base.length + 2 * SEARCH_WORDS.length);
    const tokenizer = new ToyTokenizer(buildToyTokenizerJson(SEARCH_WORDS));
    const problems = generateSearchProblems({ split: 'eval', count: 50, seed: 0 });
    for (const [i, t] of writeSearchTraces(problems, 0).entries()) {
      for (const text of [problems[i]!.problem, t.text]) {
        const ids = tokenizer.encode(text);
        assert.ok(!ids.includes(tokenizer.unkId), text);
        assert.equal(tokenizer.decode(ids), text);
      }
    }
  });
});
