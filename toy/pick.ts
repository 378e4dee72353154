// The toy "pick" world (docs/toy.md, attempt 21): the start of a two-step chain is one of four listed
// candidates, and only running the chain forward tells which — "Start with a number: 23, 41, 17 or 35.
// Multiply by 3. Add 7. The result is 58. What is the number?" → 17. The teacher tries candidates in a
// random order ("Try 41: 41 * 3 = 123. 123 + 7 = 130." / "Wait, 130 is not 58.") and, after a number of
// misses it drew beforehand, commits to one of the untried candidates ("So the number is 35."), which is
// right by elimination when one is left. Unlike the chain world's re-checks, this search keeps paying
// whatever RL does to the arithmetic: the try order carries no information, so a policy that allows k misses
// is right with probability (k + 1) / n at best, and each miss costs a "Wait" line. A length budget L caps the
// misses that fit, so every L has its own best search depth — the per-budget level that SIRI's "wait"
// claim needs (attempt 18: without one, verbosity integrates the budget and lags it). Deterministic from the seed.
import {
  applyOp,
  drawDistinctProblems,
  opSymbol,
  type ChainStep,
  type Op,
  type Problem,
  type Split,
} from './problems';
import { Rng } from './random';
import {
  chainLine,
  drawStep,
  guessRange,
  resultOf,
  SEARCH_DIFFICULTY,
  SEARCH_WORDS,
  stepSentence,
  type SearchDifficulty,
} from './search';

/** Words the pick world writes beyond the chain world's vocabulary: the search world's, then its own. */
export const PICK_WORDS: readonly string[] = [...SEARCH_WORDS, 'or'];

export interface PickDifficulty extends SearchDifficulty {
  /** Candidates listed in the statement (one of them is the start). */
  candidates: number;
}

/** Two steps, one of them a multiplication by 2–5, the other adds or subtracts 2–19; candidates 2–40 whose
 * chains stay in [1, 299]. */
export const PICK_DIFFICULTY: PickDifficulty = {
  ...SEARCH_DIFFICULTY, // its operand ranges: add / subtract 2–19, multiply by 2–5
  maxSteps: 2,
  start: [2, 40],
  maxValue: 299,
  maxGuess: 40,
  maxGuessValue: 299,
  candidates: 4,
};

const SHIFT_OPS = ['add', 'sub'] as const;

/** "23, 41, 17 or 35" */
const candidateList = (cs: readonly number[]): string =>
  `${cs.slice(0, -1).join(', ')} or ${cs[cs.length - 1]}`;

export interface PickProblem extends Problem {
  /** The candidates in the order the statement lists them; `start` is one of them. */
  candidates: number[];
}

/** A pick problem; the key names the answer, the listed candidates (in order) and the chain. */
export function makePickProblem(start: number, candidates: number[], steps: ChainStep[]): PickProblem {
  if (!candidates.includes(start)) throw new RangeError(`start ${start} is not among the candidates`);
  const target = resultOf(start, steps);
  const key = [
    'pick',
    String(start),
    candidates.join(','),
    ...steps.map((s) => `${opSymbol(s.op)}${s.operand}`),
  ].join('|');
  const text = [
    `Start with a number: ${candidateList(candidates)}.`,
    ...steps.map(stepSentence),
    `The result is ${target}.`,
    'What is the number?',
  ];
  return { key, start, steps, candidates, problem: text.join(' '), answer: String(start) };
}

function samplePickProblem(rng: Rng, d: PickDifficulty): PickProblem | null {
  const start = rng.int(d.start[0], d.start[1]);
  const steps: ChainStep[] = [];
  let value = start;
  // One step multiplies (so no candidate can be told apart by adding up the offsets), the others add or subtract.
  const nSteps = rng.int(d.minSteps, d.maxSteps);
  const mulAt = rng.int(0, nSteps - 1);
  for (let i = 0; i < nSteps; i++) {
    const op: Op = i === mulAt ? 'mul' : rng.pick(SHIFT_OPS);
    const step = drawStep(rng, value, op, d);
    if (step === null) return null;
    steps.push(step);
    value = applyOp(value, step);
  }
  // The other candidates: distinct starts whose chains also stay in range (so every try is computable).
  const [lo, hi] = guessRange(steps, d);
  if (start < lo || start > hi || hi - lo + 1 < d.candidates) return null;
  const candidates = new Set<number>([start]);
  while (candidates.size < d.candidates) candidates.add(rng.int(lo, hi));
  return makePickProblem(start, rng.shuffle([...candidates]), steps);
}

/** `count` distinct problems of one split, seeded by (seed, split), disjoint across splits by key hash. */
export function generatePickProblems(options: {
  split: Split;
  count: number;
  seed: number;
  difficulty?: PickDifficulty;
}): PickProblem[] {
  const d = options.difficulty ?? PICK_DIFFICULTY;
  const rng = new Rng(options.seed).fork(`toy-pick-problems/${options.split}`);
  return drawDistinctProblems(options.split, options.count, () => samplePickProblem(rng, d)) as PickProblem[];
}

export interface PickTeacherOptions {
  /** P(misses allowed before committing = k) ∝ missWeights[k], k = 0 … candidates − 1. */
  missWeights: readonly number[];
}

/** Every search depth about equally often, so the base can be pushed either way. */
export const PICK_TEACHER: PickTeacherOptions = { missWeights: [2, 2, 3, 3] };

export interface PickTrace {
  text: string;
  /** Candidates whose chain was computed. */
  tries: number;
  /** Tries that missed (each writes one "Wait"). */
  misses: number;
  /** Whether the answer was named without a confirming try (a guess, or elimination when one is left). */
  committed: boolean;
  answer: string;
  correct: boolean;
}

/** One trace: try candidates in a random order; after `allowedMisses` misses, commit to an untried one. */
export function writePickTrace(
  problem: PickProblem,
  rng: Rng,
  options: PickTeacherOptions = PICK_TEACHER,
): PickTrace {
  const { steps, start: answer, candidates } = problem;
  const target = resultOf(answer, steps);
  const order = rng.shuffle([...candidates]);
  const allowedMisses = rng.weighted(options.missWeights.slice(0, candidates.length));
  const lines: string[] = [];
  let misses = 0;
  let said = answer;
  let committed = false;
  for (const [i, guess] of order.entries()) {
    if (misses === allowedMisses) {
      said = rng.pick(order.slice(i));
      lines.push(`So the number is ${said}.`);
      committed = true;
      break;
    }
    const result = resultOf(guess, steps);
    if (result === target) {
      lines.push(`Try ${guess}: ${chainLine(guess, steps)} Yes, that is right.`);
      said = guess;
      break;
    }
    lines.push(`Try ${guess}: ${chainLine(guess, steps)}`, `Wait, ${result} is not ${target}.`);
    misses += 1;
  }
  const text = ['<think>', ...lines, '</think>', `The answer is \\boxed{${said}}.`].join('\n');
  const tries = committed ? misses : misses + 1;
  return { text, tries, misses, committed, answer: String(said), correct: said === answer };
}

/** One trace per problem, each from its own stream fork(seed, problem key): stable under reordering. */
export function writePickTraces(
  problems: readonly PickProblem[],
  seed: number,
  options: PickTeacherOptions = PICK_TEACHER,
): PickTrace[] {
  const base = new Rng(seed).fork('toy-pick-teacher');
  return problems.map((p) => writePickTrace(p, base.fork(p.key), options));
}

/**
 * Whether every `a op b = c.` on a line holds (+, -, *): "Try 41: 41 * 3 = 123. 123 + 7 = 130." → true. Reads
 * a model's try lines (the base test, scripts/toy-behaviour.ts); toy/pick.test.ts checks the teacher's
 * traces with its own arithmetic instead.
 */
export function tryLineRight(line: string): boolean {
  return [...line.matchAll(/(\d+) ([-+*]) (\d+) = (\d+)\./g)].every(([, a, op, b, c]) => {
    const [x, y] = [Number(a), Number(b)];
    return (op === '+' ? x + y : op === '-' ? x - y : x * y) === Number(c);
  });
}
