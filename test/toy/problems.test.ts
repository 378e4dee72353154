// The toy problem generator: hand-checked chains, determinism, split disjointness, answers re-derived
// from the problem TEXT with this test's own arithmetic, difficulty bounds, and key round trips.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chainValues,
  DEFAULT_DIFFICULTY,
  EVAL_BUCKET_PERCENT,
  generateProblems,
  makeProblem,
  parseProblemKey,
  splitOf,
  type Difficulty,
} from '../../toy/problems';
import { Rng } from '../../toy/random';

/** Evaluates "Start with 7. Add 5. Multiply by 3. … What is the result?" from its words. */
function solveText(text: string): { values: number[]; steps: number } {
  const sentences = text.split('. ');
  const start = /^Start with (\d+)$/.exec(sentences[0] ?? '');
  assert.ok(start, `bad opening in ${text}`);
  let value = Number(start[1]);
  const values = [value];
  for (const sentence of sentences.slice(1)) {
    const s = sentence.replace(/\.$/, '');
    if (s === 'What is the result?') break;
    const m = /^(Add|Subtract|Multiply by|Divide by) (\d+)$/.exec(s);
    assert.ok(m, `bad sentence "${s}" in ${text}`);
    const b = Number(m[2]);
    if (m[1] === 'Add') value = value + b;
    else if (m[1] === 'Subtract') value = value - b;
    else if (m[1] === 'Multiply by') value = value * b;
    else value = value / b;
    values.push(value);
  }
  assert.ok(text.endsWith(' What is the result?'));
  return { values, steps: values.length - 1 };
}

describe('toy problems', () => {
  test('a hand-built chain: text, key and answer', () => {
    const p = makeProblem(7, [
      { op: 'add', operand: 5 },
      { op: 'mul', operand: 3 },
      { op: 'sub', operand: 4 },
    ]);
    assert.equal(p.problem, 'Start with 7. Add 5. Multiply by 3. Subtract 4. What is the result?');
    assert.equal(p.answer, '32'); // (7 + 5) · 3 − 4
    assert.equal(p.key, '7|+5|*3|-4');
    const q = makeProblem(90, [
      { op: 'div', operand: 5 },
      { op: 'sub', operand: 11 },
    ]);
    assert.equal(q.problem, 'Start with 90. Divide by 5. Subtract 11. What is the result?');
    assert.equal(q.answer, '7'); // 90 / 5 − 11
    assert.deepEqual(parseProblemKey(q.key), q);
  });

  test('the Rng is deterministic and its forks are independent of draws', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    assert.deepEqual(
      xs,
      Array.from({ length: 5 }, () => b.nextUint32()),
    );
    assert.notDeepEqual(
      xs,
      Array.from({ length: 5 }, () => new Rng(43).nextUint32()),
    );
    // fork depends on the seed and label only, not on how much was drawn.
    assert.equal(new Rng(42).fork('x').nextUint32(), a.fork('x').nextUint32());
    assert.notEqual(a.fork('x').nextUint32(), a.fork('y').nextUint32());
    // int() stays in range and hits every value.
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) seen.add(a.int(3, 9));
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6, 7, 8, 9]);
  });

  test('same options ⇒ same problems; a longer list extends a shorter one; seeds differ', () => {
    const first = generateProblems({ split: 'train', count: 300, seed: 5 });
    assert.deepEqual(generateProblems({ split: 'train', count: 300, seed: 5 }), first);
    assert.deepEqual(generateProblems({ split: 'train', count: 100, seed: 5 }), first.slice(0, 100));
    const other = generateProblems({ split: 'train', count: 300, seed: 6 });
    assert.notDeepEqual(
      other.map((p) => p.key),
      first.map((p) => p.key),
    );
  });

  test('train and held-out splits are disjoint, whatever the seeds', () => {
    const train = [1, 2].flatMap((seed) => generateProblems({ split: 'train', count: 3000, seed }));
    const held = [1, 3].flatMap((seed) => generateProblems({ split: 'eval', count: 1000, seed }));
    const trainKeys = new Set(train.map((p) => p.key));
    const trainTexts = new Set(train.map((p) => p.problem));
    for (const p of held) {
      assert.equal(splitOf(p.key), 'eval');
      assert.ok(!trainKeys.has(p.key) && !trainTexts.has(p.problem), `${p.key} is in both splits`);
    }
    for (const p of train) assert.equal(splitOf(p.key), 'train');
    // No duplicates inside a split list.
    const one = generateProblems({ split: 'eval', count: 1000, seed: 1 });
    assert.equal(new Set(one.map((p) => p.key)).size, one.length);
    // The held-out bucket is about EVAL_BUCKET_PERCENT of all keys.
    const all = Array.from({ length: 4000 }, (_, i) => `${i}|+${i % 7}`);
    const share = all.filter((k) => splitOf(k) === 'eval').length / all.length;
    assert.ok(Math.abs(share - EVAL_BUCKET_PERCENT / 100) < 0.03, `held-out share ${share}`);
  });

  test('answers re-derived from the text; values within the difficulty bounds', () => {
    const d = DEFAULT_DIFFICULTY;
    const problems = generateProblems({ split: 'train', count: 2000, seed: 11 });
    const stepCounts = new Set<number>();
    const ops = new Set<string>();
    for (const p of problems) {
      const { values, steps } = solveText(p.problem);
      assert.equal(String(values[values.length - 1]), p.answer, p.problem);
      assert.ok(steps >= d.minSteps && steps <= d.maxSteps, p.problem);
      for (const v of values)
        assert.ok(Number.isInteger(v) && v >= 1 && v <= d.maxValue, `${v} in ${p.problem}`);
      assert.ok(values[0]! >= d.start[0] && values[0]! <= d.start[1]);
      for (const s of p.steps) {
        assert.ok(s.operand >= d[s.op][0] && s.operand <= d[s.op][1], `${s.op} ${s.operand}`);
        ops.add(s.op);
      }
      stepCounts.add(steps);
      assert.deepEqual(parseProblemKey(p.key), p);
    }
    assert.deepEqual([...stepCounts].sort(), [3, 4, 5]);
    assert.deepEqual([...ops].sort(), ['add', 'div', 'mul', 'sub']);
  });

  test('difficulty knobs: more steps, only addition; an impossible request says why', () => {
    const d: Difficulty = { ...DEFAULT_DIFFICULTY, minSteps: 7, maxSteps: 7, ops: ['add'], maxValue: 999 };
    for (const p of generateProblems({ split: 'eval', count: 50, seed: 2, difficulty: d })) {
      assert.equal(p.steps.length, 7);
      assert.ok(p.steps.every((s) => s.op === 'add'));
    }
    // Start 2..3, one step of +2..3: at most 4 problems exist.
    const tiny: Difficulty = { ...d, minSteps: 1, maxSteps: 1, start: [2, 3], add: [2, 3] };
    assert.throws(
      () => generateProblems({ split: 'train', count: 10, seed: 1, difficulty: tiny }),
      /too few problems/,
    );
    assert.throws(
      () => generateProblems({ split: 'train', count: 1, seed: 1, difficulty: { ...d, minSteps: 0 } }),
      /inconsistent/,
    );
  });

  test('mulMaxInput: multiplications only of values up to it, the rest of the chain unchanged', () => {
    const d: Difficulty = {
      ...DEFAULT_DIFFICULTY,
      start: [10, 99],
      mul: [3, 9],
      maxValue: 999,
      mulMaxInput: 99,
      ops: ['add', 'sub', 'mul'],
    };
    let muls = 0;
    for (const p of generateProblems({ split: 'train', count: 300, seed: 4, difficulty: d })) {
      const values = chainValues(p.start, p.steps);
      p.steps.forEach((s, i) => {
        if (s.op !== 'mul') return;
        muls += 1;
        assert.ok((values[i] as number) <= 99, `${p.key}: multiplies ${values[i]}`);
      });
      assert.ok(values.every((v) => v >= 1 && v <= 999));
    }
    assert.ok(muls > 200, `only ${muls} multiplications`);
    assert.throws(
      () => generateProblems({ split: 'train', count: 1, seed: 1, difficulty: { ...d, mulMaxInput: 0.5 } }),
      /inconsistent/,
    );
  });
});
