// The toy "search" world (docs/toy.md, attempt 15): find the unknown start of an arithmetic chain from its
// result — "Start with a number. Multiply by 7. Subtract 5. The result is 86. What is the number?" → 13 —
// solved the way a reasoning model explores: guess, run the chain forward, compare with the result, move the
// guess, until a try hits ("Try 12: … = 79." / "Wait, 79 is less than 86, so the number is larger."). The
// chain only adds, subtracts and multiplies by a positive number, so its result grows strictly with the start
// and every comparison says which way to go. A longer budget buys more tries, so search pays where the first
// guess is far off; a short one rewards good first guesses and shortcuts ("So the number is 13." without
// the confirming try). Redundant re-checks of a hit are pure waste. Deterministic from the seed.
import {
  applyOp,
  chainValues,
  drawDistinctProblems,
  opSymbol,
  type ChainStep,
  type Difficulty,
  type Op,
  type Problem,
  type Split,
} from './problems';
import { Rng } from './random';

/** Words the search world writes beyond the chain world's vocabulary (appended to the toy tokenizer's). */
export const SEARCH_WORDS: readonly string[] = ['Try', 'larger', 'less', 'number', 'smaller', 'than'];

/** The chain world's knobs that apply here (no division), plus the range the guesses may take. */
export interface SearchDifficulty extends Pick<
  Difficulty,
  'minSteps' | 'maxSteps' | 'start' | 'add' | 'sub' | 'mul' | 'maxValue'
> {
  /** Guesses stay in [1, maxGuess] and keep every value of their chain in [1, maxGuessValue]. */
  maxGuess: number;
  maxGuessValue: number;
}

export const SEARCH_DIFFICULTY: SearchDifficulty = {
  minSteps: 2,
  maxSteps: 3,
  start: [2, 30],
  add: [2, 19],
  sub: [2, 19],
  mul: [2, 5],
  maxValue: 199,
  maxGuess: 60,
  maxGuessValue: 999,
};

const SEARCH_OPS: readonly Op[] = ['add', 'sub', 'mul'];

/** "Add 5.", "Subtract 4.", "Multiply by 3." */
export function stepSentence(step: ChainStep): string {
  if (step.op === 'add') return `Add ${step.operand}.`;
  if (step.op === 'sub') return `Subtract ${step.operand}.`;
  return `Multiply by ${step.operand}.`;
}

export const resultOf = (start: number, steps: readonly ChainStep[]): number =>
  chainValues(start, steps)[steps.length] as number;

/** A find-the-start problem: `start` is the unknown (the answer), the statement gives the chain's result. */
export function makeSearchProblem(start: number, steps: ChainStep[]): Problem {
  const target = resultOf(start, steps);
  const key = ['find', String(start), ...steps.map((s) => `${opSymbol(s.op)}${s.operand}`)].join('|');
  const text = ['Start with a number.', ...steps.map(stepSentence), `The result is ${target}.`];
  return { key, start, steps, problem: [...text, 'What is the number?'].join(' '), answer: String(start) };
}

/** The guesses whose chains stay in range: [lo, hi] (the result grows with the guess, so this is an interval). */
export function guessRange(steps: readonly ChainStep[], d: SearchDifficulty): [number, number] {
  const ok = (g: number): boolean => chainValues(g, steps).every((v) => v >= 1 && v <= d.maxGuessValue);
  let lo = 1;
  while (lo <= d.maxGuess && !ok(lo)) lo++;
  let hi = lo;
  while (hi + 1 <= d.maxGuess && ok(hi + 1)) hi++;
  return [lo, hi];
}

/** A step of `op` from `value` with a uniform operand among those that keep the value in [1, maxValue]. */
export function drawStep(
  rng: Rng,
  value: number,
  op: Op,
  d: Pick<Difficulty, 'add' | 'sub' | 'mul' | 'maxValue'>,
): ChainStep | null {
  const [lo, hi] = d[op as 'add' | 'sub' | 'mul'];
  const operands: number[] = [];
  for (let b = lo; b <= hi; b++) {
    const next = applyOp(value, { op, operand: b });
    if (next >= 1 && next <= d.maxValue) operands.push(b);
  }
  return operands.length === 0 ? null : { op, operand: rng.pick(operands) };
}

function sampleSearchChain(rng: Rng, d: SearchDifficulty): Problem | null {
  const start = rng.int(d.start[0], d.start[1]);
  const nSteps = rng.int(d.minSteps, d.maxSteps);
  const steps: ChainStep[] = [];
  let value = start;
  for (let i = 0; i < nSteps; i++) {
    const op = rng.pick(SEARCH_OPS);
    const step = drawStep(rng, value, op, d);
    if (step === null) return null;
    steps.push(step);
    value = applyOp(value, step);
  }
  const [lo, hi] = guessRange(steps, d);
  return start >= lo && start <= hi ? makeSearchProblem(start, steps) : null;
}

/** `count` distinct problems of one split, seeded by (seed, split), disjoint across splits by key hash. */
export function generateSearchProblems(options: {
  split: Split;
  count: number;
  seed: number;
  difficulty?: SearchDifficulty;
}): Problem[] {
  const d = options.difficulty ?? SEARCH_DIFFICULTY;
  const rng = new Rng(options.seed).fork(`toy-search-problems/${options.split}`);
  return drawDistinctProblems(options.split, options.count, () => sampleSearchChain(rng, d));
}

export interface SearchTeacherOptions {
  /** P(|first guess − answer| = i) ∝ firstGuessOffsetWeights[i]; the sign is a fair coin (flipped at the range's ends). */
  firstGuessOffsetWeights: readonly number[];
  /** After a miss that leaves the answer one away, probability of naming it without the confirming try. */
  shortcutProb: number;
  /** P(number of redundant re-checks of the final answer = i) ∝ recheckWeights[i]: pure waste. */
  recheckWeights: readonly number[];
}

/** The search world's teacher: 2.6 tries per trace on average, 30% right at the first guess. */
export const SEARCH_TEACHER: SearchTeacherOptions = {
  firstGuessOffsetWeights: [30, 20, 15, 8, 7, 5, 4, 3, 3, 2, 1, 1, 1],
  shortcutProb: 0.35,
  recheckWeights: [6, 3, 1],
};

export interface SearchTrace {
  text: string;
  /** Tries written (guesses whose chain was computed). */
  tries: number;
  /** Whether the answer was named after a miss without a confirming try. */
  shortcut: boolean;
  /** Redundant re-checks after the answer was found. */
  rechecks: number;
  answer: string;
}

/** "12 * 7 = 84. 84 - 5 = 79." */
export function chainLine(guess: number, steps: readonly ChainStep[]): string {
  const values = chainValues(guess, steps);
  return steps.map((s, i) => `${values[i]} ${opSymbol(s.op)} ${s.operand} = ${values[i + 1]}.`).join(' ');
}

/** Next guess: toward the answer by half the remaining distance, rounded up (the teacher knows the answer). */
const nextGuess = (guess: number, answer: number): number =>
  guess + Math.sign(answer - guess) * Math.ceil(Math.abs(answer - guess) / 2);

export function writeSearchTrace(
  problem: Problem,
  rng: Rng,
  options: SearchTeacherOptions = SEARCH_TEACHER,
  difficulty: SearchDifficulty = SEARCH_DIFFICULTY,
): SearchTrace {
  const { steps, start: answer } = problem;
  const target = resultOf(answer, steps);
  const [lo, hi] = guessRange(steps, difficulty);
  const offset = rng.weighted(options.firstGuessOffsetWeights);
  const up = rng.bernoulli(0.5);
  let guess = answer + (up ? offset : -offset);
  if (guess < lo || guess > hi) guess = answer + (up ? -offset : offset);
  guess = Math.min(hi, Math.max(lo, guess));

  const lines: string[] = [];
  let tries = 0;
  let shortcut = false;
  for (;;) {
    tries += 1;
    const result = resultOf(guess, steps);
    if (result === target) {
      lines.push(`Try ${guess}: ${chainLine(guess, steps)} Yes, that is right.`);
      break;
    }
    lines.push(`Try ${guess}: ${chainLine(guess, steps)}`);
    lines.push(
      result < target
        ? `Wait, ${result} is less than ${target}, so the number is larger.`
        : `Wait, ${result} is more than ${target}, so the number is smaller.`,
    );
    guess = nextGuess(guess, answer);
    if (guess === answer && rng.bernoulli(options.shortcutProb)) {
      lines.push(`So the number is ${answer}.`);
      shortcut = true;
      break;
    }
  }
  const rechecks = rng.weighted(options.recheckWeights);
  for (let i = 0; i < rechecks; i++) {
    lines.push(`Wait, let me verify: ${chainLine(answer, steps)} Correct.`);
  }
  const text = ['<think>', ...lines, '</think>', `The answer is \\boxed{${answer}}.`].join('\n');
  return { text, tries, shortcut, rechecks, answer: String(answer) };
}

/** One trace per problem, each from its own stream fork(seed, problem key): stable under reordering. */
export function writeSearchTraces(
  problems: readonly Problem[],
  seed: number,
  options: SearchTeacherOptions = SEARCH_TEACHER,
): SearchTrace[] {
  const base = new Rng(seed).fork('toy-search-teacher');
  return problems.map((p) => writeSearchTrace(p, base.fork(p.key), options));
}
