// The toy pick world (toy/pick.ts): a hand-checked problem and trace, every trace re-read from its TEXT
// with this test's own arithmetic (each try's chain right, each miss really a miss, a commitment only to an
// untried candidate, the boxed answer the one said), the teacher's accuracy against the search-depth formula
// P(right | k misses allowed) = (k + 1) / n, determinism, split disjointness and the tokenizer round trip.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  generatePickProblems,
  makePickProblem,
  PICK_DIFFICULTY,
  PICK_TEACHER,
  PICK_WORDS,
  writePickTrace,
  writePickTraces,
} from '../../toy/pick';
import { Rng } from '../../toy/random';
import { SEARCH_WORDS } from '../../toy/search';
import { buildToyTokenizerJson, ToyTokenizer } from '../../toy/tokenizer';

type Step = { op: '+' | '-' | '*'; operand: number };

/** Parses "Start with a number: 23, 41, 17 or 35. Multiply by 3. Add 7. The result is 58. What is the number?". */
function parseProblem(text: string): { candidates: number[]; steps: Step[]; target: number } {
  const m =
    /^Start with a number: ([\d, ]+) or (\d+)\. (.*) The result is (\d+)\. What is the number\?$/.exec(text);
  assert.ok(m, `bad problem "${text}"`);
  const candidates = [...(m[1] as string).split(', ').map(Number), Number(m[2])];
  const steps = (m[3] as string)
    .split('. ')
    .map((s) => /^(Add|Subtract|Multiply by) (\d+)\.?$/.exec(s))
    .map((s): Step => {
      assert.ok(s, text);
      return { op: s[1] === 'Add' ? '+' : s[1] === 'Subtract' ? '-' : '*', operand: Number(s[2]) };
    });
  return { candidates, steps, target: Number(m[4]) };
}

const run = (x: number, steps: readonly Step[]): number[] => {
  const values = [x];
  for (const s of steps) {
    const v = values[values.length - 1] as number;
    values.push(s.op === '+' ? v + s.operand : s.op === '-' ? v - s.operand : v * s.operand);
  }
  return values;
};

/** Re-reads a trace line by line; returns the misses and whether the boxed answer solves the problem. */
function checkTrace(problemText: string, trace: string): { misses: number; correct: boolean } {
  const { candidates, steps, target } = parseProblem(problemText);
  const lines = trace.split('\n');
  assert.equal(lines[0], '<think>');
  assert.equal(lines[lines.length - 2], '</think>');
  const boxed = /^The answer is \\boxed\{(\d+)\}\.$/.exec(lines[lines.length - 1] ?? '');
  assert.ok(boxed, trace);
  const tried = new Set<number>();
  let said = NaN;
  let misses = 0;
  const body = lines.slice(1, -2);
  for (let i = 0; i < body.length; i++) {
    const line = body[i] as string;
    const tryLine = /^Try (\d+): (.*?)( Yes, that is right\.)?$/.exec(line);
    const commit = /^So the number is (\d+)\.$/.exec(line);
    if (commit) {
      said = Number(commit[1]);
      assert.ok(
        candidates.includes(said) && !tried.has(said),
        `commits to a tried or unlisted number: ${line}`,
      );
      assert.equal(i, body.length - 1, 'a commitment ends the search');
      continue;
    }
    assert.ok(tryLine, `unexpected line "${line}"`);
    const guess = Number(tryLine[1]);
    assert.ok(candidates.includes(guess) && !tried.has(guess), `tries ${guess} again or off the list`);
    tried.add(guess);
    const values = run(guess, steps);
    const expected = steps.map((s, j) => `${values[j]} ${s.op} ${s.operand} = ${values[j + 1]}.`).join(' ');
    assert.equal(tryLine[2], expected);
    const result = values[values.length - 1] as number;
    if (tryLine[3] !== undefined) {
      assert.equal(result, target, 'a hit is a hit');
      said = guess;
      assert.equal(i, body.length - 1, 'a hit ends the search');
    } else {
      assert.notEqual(result, target);
      assert.equal(body[++i], `Wait, ${result} is not ${target}.`);
      misses += 1;
    }
  }
  assert.equal(Number(boxed[1]), said);
  return { misses, correct: run(said, steps)[steps.length] === target };
}

describe('toy pick world', () => {
  test('a hand-checked problem and its statement', () => {
    const p = makePickProblem(
      17,
      [23, 41, 17, 35],
      [
        { op: 'mul', operand: 3 },
        { op: 'add', operand: 7 },
      ],
    );
    assert.equal(
      p.problem,
      'Start with a number: 23, 41, 17 or 35. Multiply by 3. Add 7. The result is 58. What is the number?',
    );
    assert.equal(p.answer, '17');
    assert.throws(() => makePickProblem(18, [23, 41, 17, 35], p.steps), /not among the candidates/);
  });

  test('every trace reads right, and the teacher is right (k + 1) / n of the time', () => {
    const problems = generatePickProblems({ split: 'train', count: 3000, seed: 3 });
    const traces = writePickTraces(problems, 11);
    const n = 4;
    // E[(k + 1) / n] over the miss weights: the accuracy of searching k misses deep in a random order.
    const w = PICK_TEACHER.missWeights;
    const total = w.reduce((a, b) => a + b, 0);
    const expected = w.reduce((acc, wk, k) => acc + (wk / total) * ((k + 1) / n), 0);
    let correct = 0;
    traces.forEach((t, i) => {
      const p = problems[i]!;
      const read = checkTrace(p.problem, t.text);
      assert.equal(read.misses, t.misses);
      assert.equal(read.correct, t.correct);
      assert.equal(parseProblem(p.problem).candidates.length, n);
      assert.equal(new Set(parseProblem(p.problem).candidates).size, n, 'candidates are distinct');
      if (t.correct) correct += 1;
    });
    // 3,000 traces: the standard error of a ~0.68 proportion is 0.0085; 4 of them.
    assert.ok(
      Math.abs(correct / traces.length - expected) < 0.034,
      `${correct / traces.length} vs ${expected}`,
    );
  });

  test('the search depth sets the accuracy: all misses allowed is always right, none is a 1-in-4 guess', () => {
    const problems = generatePickProblems({ split: 'train', count: 800, seed: 5 });
    const exhaustive = writePickTraces(problems, 1, { missWeights: [0, 0, 0, 1] });
    assert.ok(exhaustive.every((t) => t.correct));
    const guessing = writePickTraces(problems, 1, { missWeights: [1, 0, 0, 0] });
    assert.ok(guessing.every((t) => t.misses === 0 && t.tries === 0 && t.committed));
    const rate = guessing.filter((t) => t.correct).length / guessing.length;
    assert.ok(Math.abs(rate - 0.25) < 0.07, `${rate}`);
  });

  test('centred three-candidate teacher (docs/toy.md attempt 24): 5/6 right, 5/6 misses, lMin 58 holds one try', () => {
    // Always one try; after a miss, commit (k = 1) or try again (k = 2, then the last one by elimination).
    // P(right) = ½·(2/3) + ½·1 = 5/6. Misses: k = 1 → P(first misses) = 2/3; k = 2 → 2/3 · (1 + ½) = 1; mean 5/6.
    const difficulty = { ...PICK_DIFFICULTY, candidates: 3 };
    const problems = generatePickProblems({ split: 'train', count: 3000, seed: 4, difficulty });
    const traces = writePickTraces(problems, 2, { missWeights: [0, 1, 1] });
    const tokenizer = new ToyTokenizer(buildToyTokenizerJson(PICK_WORDS));
    let correct = 0;
    let misses = 0;
    traces.forEach((t, i) => {
      const read = checkTrace(problems[i]!.problem, t.text);
      assert.equal(read.correct, t.correct);
      assert.ok(t.tries >= 1, 'never commits without a try');
      const length = tokenizer.encode(t.text).length + 1; // + EOS
      if (t.tries === 1) assert.ok(length <= 58, `one try: ${length} tokens`);
      else assert.ok(length >= 58, `two tries: ${length} tokens`);
      correct += t.correct ? 1 : 0;
      misses += t.misses;
    });
    // Standard errors over 3,000 traces: 0.007 (accuracy), 0.011 (misses); 4 of them.
    assert.ok(Math.abs(correct / traces.length - 5 / 6) < 0.028, `${correct / traces.length}`);
    assert.ok(Math.abs(misses / traces.length - 5 / 6) < 0.044, `${misses / traces.length}`);
  });

  test('chains of 2–4 steps (docs/toy.md attempt 27): traces read right; lMin 84 holds a second try only on 2 steps', () => {
    // A try costs ~12 tokens more per step, so at 84 tokens a second try fits after a 2-step miss (the longest
    // "miss, then hit" 81 tokens) but a second miss never fits on 3 or 4 steps, while "one miss, then commit"
    // always fits (longest 80, on 4 steps): the budget moves the try-again/commit threshold along the chain length.
    const difficulty = { ...PICK_DIFFICULTY, candidates: 3, minSteps: 2, maxSteps: 4 };
    const problems = generatePickProblems({ split: 'train', count: 3000, seed: 0, difficulty });
    const traces = writePickTraces(problems, 7, { missWeights: [0, 1, 1] });
    const tokenizer = new ToyTokenizer(buildToyTokenizerJson(PICK_WORDS));
    const longest = new Map<string, number>();
    const shortest = new Map<string, number>();
    const bySteps = new Map<number, number>();
    traces.forEach((t, i) => {
      const p = problems[i]!;
      assert.equal(checkTrace(p.problem, t.text).correct, t.correct);
      assert.equal(p.steps.filter((s) => s.op === 'mul').length, 1);
      bySteps.set(p.steps.length, (bySteps.get(p.steps.length) ?? 0) + 1);
      const path = `${p.steps.length}:${t.misses}${t.committed ? 'commit' : 'hit'}`;
      const length = tokenizer.encode(t.text).length + 1; // + EOS
      longest.set(path, Math.max(longest.get(path) ?? 0, length));
      shortest.set(path, Math.min(shortest.get(path) ?? Infinity, length));
    });
    assert.deepEqual([...bySteps.keys()].sort(), [2, 3, 4]);
    for (const [steps, n] of bySteps) assert.ok(n > 800, `${n} problems of ${steps} steps`);
    assert.equal(longest.get('2:1hit'), 81);
    assert.equal(longest.get('4:1commit'), 80);
    assert.equal(shortest.get('3:2commit'), 85);
    assert.ok((shortest.get('4:2commit') ?? 0) > 100);
  });

  test('deterministic per seed, disjoint splits, one multiplication per chain', () => {
    const a = generatePickProblems({ split: 'train', count: 300, seed: 9 });
    const b = generatePickProblems({ split: 'train', count: 300, seed: 9 });
    assert.deepEqual(a, b);
    const held = generatePickProblems({ split: 'eval', count: 300, seed: 9 });
    const keys = new Set(a.map((p) => p.key));
    assert.ok(held.every((p) => !keys.has(p.key)));
    assert.ok(a.every((p) => p.steps.filter((s) => s.op === 'mul').length === 1));
    const t1 = writePickTrace(a[0]!, new Rng(4));
    const t2 = writePickTrace(a[0]!, new Rng(4));
    assert.deepEqual(t1, t2);
  });

  test('the extended tokenizer round-trips every statement and trace, with no unknown token', () => {
    assert.deepEqual(PICK_WORDS.slice(0, SEARCH_WORDS.length), SEARCH_WORDS);
    const tokenizer = new ToyTokenizer(buildToyTokenizerJson(PICK_WORDS));
    const problems = generatePickProblems({ split: 'eval', count: 200, seed: 0 });
    const traces = writePickTraces(problems, 2);
    for (const [i, p] of problems.entries()) {
      for (const text of [p.problem, traces[i]!.text]) {
        const ids = tokenizer.encode(text);
        assert.ok(!ids.includes(2), `unknown token in ${text}`);
        assert.equal(tokenizer.decode(ids), text);
      }
    }
  });
});
