// The toy teacher: exact text for a hand-worked chain, every trace answers right after </think> (checked
// with the project's grader), every slip written is fixed later in the trace (checked by re-doing the
// arithmetic of each line), verbosity follows the knobs, and traces are deterministic.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gradeResponse } from '../../grader/index';
import {
  DEFAULT_DIFFICULTY,
  generateProblems,
  makeProblem,
  parseProblemKey,
  type Problem,
} from '../../toy/problems';
import { Rng } from '../../toy/random';
import {
  CONCISE_TEACHER,
  conciseTrace,
  DECOMPOSING_TEACHER,
  decomposedProduct,
  DEFAULT_TEACHER,
  LEAPING_TEACHER,
  leapGroups,
  leapLine,
  placeValueParts,
  TEACHER_PRESETS,
  VERIFYING_TEACHER,
  writeTrace,
  writeTraces,
} from '../../toy/teacher';

const chain = makeProblem(7, [
  { op: 'add', operand: 5 },
  { op: 'mul', operand: 3 },
  { op: 'sub', operand: 4 },
]);

const problems = generateProblems({ split: 'train', count: 1500, seed: 3 });
const traces = writeTraces(problems, 9);

const EQUATION = /(\d+) ([-+*/]) (\d+) = (\d+)/g;

function evaluate(a: number, op: string, b: number): number {
  return op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b;
}

/** The lines between <think> and </think>. */
function thinkLines(text: string): string[] {
  const open = text.indexOf('<think>\n');
  const close = text.indexOf('\n</think>');
  assert.ok(open === 0 && close > open, 'trace must open with <think> and close it');
  return text.slice(open + 8, close).split('\n');
}

describe('toy teacher', () => {
  test('concise trace of a hand-worked chain, exactly', () => {
    assert.equal(
      conciseTrace(chain).text,
      '<think>\n7 + 5 = 12.\n12 * 3 = 36.\n36 - 4 = 32.\n</think>\nThe answer is \\boxed{32}.',
    );
    const t = writeTrace(chain, new Rng(1), CONCISE_TEACHER);
    assert.deepEqual([t.rechecks, t.slips, t.usefulRechecks, t.answer], [0, 0, 0, '32']);
  });

  test('every trace ends with the right boxed answer after </think> (grader)', () => {
    for (let i = 0; i < problems.length; i++) {
      const p = problems[i] as Problem;
      const t = traces[i]!;
      assert.equal(t.answer, p.answer);
      assert.equal(t.text.split('</think>').length, 2, 'exactly one </think>');
      assert.ok(t.text.endsWith(`</think>\nThe answer is \\boxed{${p.answer}}.`), t.text);
      const grade = gradeResponse(t.text, p.answer);
      assert.equal(grade.correct, true, `${grade.reason}: ${t.text}`);
      // A wrong gold must not match (the check can fail).
      assert.equal(gradeResponse(t.text, String(Number(p.answer) + 1)).correct, false);
    }
  });

  test('slips are written and every one is fixed later in the trace', () => {
    let wrongLines = 0;
    let lateFixes = 0;
    for (let i = 0; i < problems.length; i++) {
      const lines = thinkLines(traces[i]!.text);
      let wrongHere = 0;
      for (let j = 0; j < lines.length; j++) {
        const line = lines[j]!;
        // A plain step line "a op b = c." (not a check or a review line written after a correction).
        const m = /^(\d+) ([-+*/]) (\d+) = (\d+)\.$/.exec(line);
        if (!m) continue;
        const right = evaluate(Number(m[1]), m[2]!, Number(m[3]));
        const stated = Number(m[4]);
        if (right === stated) continue;
        wrongHere += 1;
        // The fix: a later line stating "a op b = right, not stated" for the same a, op, b, or an inverse
        // check ending "I made a mistake, so a op b = right."…
        const sameStep = `${m[1]} ${m[2]} ${m[3]} = ${right}, not ${stated}`;
        const inverseFix = `I made a mistake, so ${m[1]} ${m[2]} ${m[3]} = ${right}.`;
        const fixedAt = lines.findIndex((l, k) => k > j && (l.includes(sameStep) || l.endsWith(inverseFix)));
        // …or a later review that re-derives this step from the right input, "… = x, not stated".
        const reviewFix = lines.findIndex((l, k) => k > j && new RegExp(`= \\d+, not ${stated}\\.$`).test(l));
        assert.ok(fixedAt > j || reviewFix > j, `slip "${line}" never fixed:\n${traces[i]!.text}`);
        // An early catch is the very next line; anything later was left for a whole-chain review.
        if (fixedAt !== j + 1) lateFixes += 1;
      }
      assert.equal(wrongHere > 0, traces[i]!.slips > 0, traces[i]!.text);
      wrongLines += wrongHere;
      // Every check line and review line states true arithmetic for its inputs.
      for (const line of lines) {
        if (/^\d+ [-+*/] \d+ = \d+\.$/.test(line)) continue;
        for (const m of line.matchAll(EQUATION)) {
          assert.equal(evaluate(Number(m[1]), m[2]!, Number(m[3])), Number(m[4]), `"${line}"`);
        }
      }
    }
    const slips = traces.reduce((n, t) => n + t.slips, 0);
    assert.ok(slips > 100, `slips ${slips}`);
    assert.ok(wrongLines >= slips, `wrong lines ${wrongLines} < slips ${slips}`);
    assert.ok(lateFixes > 10, `late fixes ${lateFixes}`);
  });

  test('verification is mostly waste, lengths vary, knobs work', () => {
    const rechecks = traces.reduce((n, t) => n + t.rechecks, 0);
    const useful = traces.reduce((n, t) => n + t.usefulRechecks, 0);
    const weights = DEFAULT_TEACHER.recheckWeights;
    const expectedMean = weights.reduce((s, w, i) => s + w * i, 0) / weights.reduce((s, w) => s + w, 0);
    const mean = rechecks / traces.length;
    assert.ok(Math.abs(mean - expectedMean) < 0.2, `mean re-checks ${mean} vs ${expectedMean}`);
    assert.ok(useful / rechecks > 0.03 && useful / rechecks < 0.25, `useful share ${useful / rechecks}`);
    const none = traces.filter((t) => t.rechecks === 0).length / traces.length;
    assert.ok(none > 0.08 && none < 0.2, `share without re-checks ${none}`);
    // "Wait" appears as often as the re-checks that open with it; none in concise traces.
    assert.ok(traces.some((t) => t.text.includes('Wait, let me verify')));
    assert.ok(traces.some((t) => t.text.includes('Hold on, let me recompute')));
    assert.ok(traces.some((t) => t.text.includes('Alternatively, ')));
    assert.ok(traces.some((t) => t.text.includes('Wait, let me go over it again.')));
    assert.ok(traces.some((t) => /Alternatively, [^\n]*, not \d+\. I made a mistake, so /.test(t.text)));
    for (const p of problems.slice(0, 200)) assert.ok(!/Wait|Hold|Alternatively/.test(conciseTrace(p).text));
    // Always exactly n re-checks when slips are off and n is forced.
    const five = { ...DEFAULT_TEACHER, recheckWeights: [0, 0, 0, 0, 0, 1], slipProb: 0 };
    const r = new Rng(4);
    for (const p of problems.slice(0, 100)) {
      const t = writeTrace(p, r, five);
      const opened = (t.text.match(/Wait, let me verify|Hold on|Alternatively|go over it|once more/g) ?? [])
        .length;
      assert.deepEqual([t.rechecks, opened, t.slips], [5, 5, 0]);
    }
  });

  test('the opt-in verifying teacher: same lengths, more of the re-checks catch a slip, all fixed', () => {
    assert.equal(TEACHER_PRESETS['default'], DEFAULT_TEACHER);
    assert.equal(TEACHER_PRESETS['verifying'], VERIFYING_TEACHER);
    assert.deepEqual(VERIFYING_TEACHER.recheckWeights, DEFAULT_TEACHER.recheckWeights);
    assert.ok(VERIFYING_TEACHER.slipProb > 2 * DEFAULT_TEACHER.slipProb);
    const verifying = writeTraces(problems, 9, VERIFYING_TEACHER);
    const share = (ts: typeof traces): number =>
      ts.reduce((n, t) => n + t.usefulRechecks, 0) / ts.reduce((n, t) => n + t.rechecks, 0);
    assert.ok(share(verifying) > 1.8 * share(traces), `useful share ${share(verifying)} vs ${share(traces)}`);
    for (let i = 0; i < problems.length; i++) {
      const t = verifying[i]!;
      assert.equal(gradeResponse(t.text, (problems[i] as Problem).answer).correct, true, t.text);
      // Every check and review line states true arithmetic; a slip needs a re-check to catch it.
      for (const line of thinkLines(t.text)) {
        if (/^\d+ [-+*/] \d+ = \d+\.$/.test(line)) continue;
        for (const m of line.matchAll(EQUATION)) {
          assert.equal(evaluate(Number(m[1]), m[2]!, Number(m[3])), Number(m[4]), `"${line}"`);
        }
      }
      assert.ok(t.slips <= t.rechecks);
    }
  });

  test('place-value decomposition of a product, by hand', () => {
    assert.deepEqual(placeValueParts(87), [80, 7]);
    assert.deepEqual(placeValueParts(807), [800, 7]);
    assert.deepEqual(placeValueParts(80), [80]);
    assert.deepEqual(placeValueParts(0), [0]);
    assert.equal(decomposedProduct(87, 7), '87 * 7 = 80 * 7 + 7 * 7 = 560 + 49 = 609');
    assert.equal(decomposedProduct(123, 4), '123 * 4 = 100 * 4 + 20 * 4 + 3 * 4 = 400 + 80 + 12 = 492');
    assert.equal(decomposedProduct(60, 3), '60 * 3 = 180');
    assert.equal(decomposedProduct(7, 9), '7 * 9 = 63');
  });

  test('the decomposing teacher: multiplication checks redo the product by place value, all true', () => {
    assert.equal(TEACHER_PRESETS['decomposing'], DECOMPOSING_TEACHER);
    const difficulty = {
      ...DEFAULT_DIFFICULTY,
      start: [10, 99] as [number, number],
      mul: [3, 9] as [number, number],
      maxValue: 999,
      mulMaxInput: 99,
      ops: ['add', 'sub', 'mul'] as const,
    };
    const hard = generateProblems({ split: 'train', count: 600, seed: 5, difficulty });
    const written = writeTraces(hard, 2, DECOMPOSING_TEACHER);
    // "a * b = p1 * b + p2 * b = q1 + q2 = c": every part, partial product and sum is true.
    const DECOMPOSED = /(\d+) \* (\d+) = ((?:\d+ \* \d+ \+ )+\d+ \* \d+) = ((?:\d+ \+ )+\d+) = (\d+)/;
    let decomposedChecks = 0;
    let caught = 0;
    for (let i = 0; i < hard.length; i++) {
      const t = written[i]!;
      assert.equal(gradeResponse(t.text, (hard[i] as Problem).answer).correct, true, t.text);
      for (const line of thinkLines(t.text)) {
        const m = line.match(DECOMPOSED);
        if (m === null) continue;
        decomposedChecks += 1;
        if (line.includes(', not ')) caught += 1;
        const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[5])];
        const terms = m[3]!.split(' + ').map((x) => x.split(' * ').map(Number));
        const products = m[4]!.split(' + ').map(Number);
        assert.deepEqual(
          terms.map(([p]) => p),
          placeValueParts(a),
          line,
        );
        assert.ok(
          terms.every(([, q]) => q === b),
          line,
        );
        assert.deepEqual(
          products,
          terms.map(([p, q]) => p! * q!),
          line,
        );
        assert.equal(c, a * b, line);
        assert.match(line, /^(Wait, let me verify|Hold on, let me recompute): /);
      }
      // Multiplications are never checked by dividing back.
      assert.doesNotMatch(t.text, /Alternatively, \d+ \/ /, t.text);
    }
    assert.ok(decomposedChecks > 200, `only ${decomposedChecks} decomposed checks`);
    assert.ok(caught > 20, `only ${caught} decomposed checks caught a slip`);
  });

  test('leap lines apply the steps left to right, by hand', () => {
    const half = { op: 'div', operand: 2 } as const;
    const triple = { op: 'mul', operand: 3 } as const;
    assert.equal(leapLine(14, [half, triple]), '14 / 2 * 3 = 21.');
    // The chain's order, not precedence: 2 + 3 * 4 is (2 + 3) * 4 = 20 here.
    assert.equal(
      leapLine(2, [
        { op: 'add', operand: 3 },
        { op: 'mul', operand: 4 },
      ]),
      '2 + 3 * 4 = 20.',
    );
    assert.equal(leapLine(7, [{ op: 'sub', operand: 4 }]), '7 - 4 = 3.');
    for (let n = 1; n <= 9; n++) {
      const sizes = leapGroups(n, new Rng(n));
      assert.equal(
        sizes.reduce((a, b) => a + b, 0),
        n,
      );
      assert.ok(
        sizes.every((s, i) => s === 2 || s === 3 || (s === 1 && i === sizes.length - 1)),
        String(sizes),
      );
    }
  });

  test('the leaping teacher: a share of leaps, each line true, right answers, other teachers unchanged', () => {
    assert.equal(TEACHER_PRESETS['leaping'], LEAPING_TEACHER);
    const long = generateProblems({
      split: 'train',
      count: 800,
      seed: 4,
      difficulty: { ...DEFAULT_DIFFICULTY, maxSteps: 8 },
    });
    const written = writeTraces(long, 6, LEAPING_TEACHER);
    const concise = long.map((p) => conciseTrace(p).text.length);
    let leaps = 0;
    for (let i = 0; i < long.length; i++) {
      const t = written[i]!;
      const p = long[i] as Problem;
      assert.equal(gradeResponse(t.text, p.answer).correct, true, t.text);
      const lines = thinkLines(t.text);
      if (t.rechecks > 0 || lines.length >= p.steps.length) continue;
      leaps += 1;
      assert.ok(t.text.length < concise[i]!, t.text);
      // Each line "a op b op c … = v." is true when evaluated left to right from the previous value.
      let value = p.start;
      for (const line of lines) {
        const [lhs, rhs] = line.replace(/\.$/, '').split(' = ');
        const [first, ...rest] = lhs!.split(' ');
        assert.equal(Number(first), value, line);
        // The rest as chain steps ("/ 2 * 3" → "/2|*3"): parseProblemKey evaluates them in order.
        const steps = rest.flatMap((token, k) => (k % 2 === 0 ? [`${token}${rest[k + 1]}`] : []));
        const acc = Number(parseProblemKey([first, ...steps].join('|')).answer);
        assert.equal(Number(rhs), acc, line);
        value = acc;
      }
      assert.equal(String(value), p.answer);
    }
    // 30% of the traces are leaps (binomial SE ≈ 1.6 points at 800).
    assert.ok(leaps > 0.24 * long.length && leaps < 0.36 * long.length, `${leaps} leaps of ${long.length}`);
    // Without leapProb no extra draw is made: the default teacher's traces are as before.
    assert.deepEqual(
      writeTraces(problems.slice(0, 50), 9, { ...DEFAULT_TEACHER, leapProb: 0 }),
      traces.slice(0, 50),
    );
  });

  test('deterministic from the seed, and per-problem streams are order-independent', () => {
    assert.deepEqual(writeTraces(problems.slice(0, 50), 9), traces.slice(0, 50));
    assert.deepEqual(writeTraces(problems.slice(0, 50).reverse(), 9).reverse(), traces.slice(0, 50));
    const other = writeTraces(problems.slice(0, 50), 10);
    assert.ok(other.some((t, i) => t.text !== traces[i]!.text));
  });
});
