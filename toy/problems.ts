// The toy world's problems: seeded multi-step arithmetic chains with short integer answers, e.g.
// "Start with 7. Add 5. Multiply by 3. Subtract 4. What is the result?" → 32. Their natural solution is one
// line per step, which is what the teacher (toy/teacher.ts) writes and then over-verifies.
// Difficulty knobs: number of steps, operand ranges, largest intermediate value, which operations.
// Splits: a problem belongs to the held-out split iff a hash of its canonical key falls in the held-out
// bucket, so train and held-out sets are disjoint by construction, whatever their sizes and seeds.
import { fnv1a, Rng } from './random';

export type Op = 'add' | 'sub' | 'mul' | 'div';
export const ALL_OPS: readonly Op[] = ['add', 'sub', 'mul', 'div'];

export interface ChainStep {
  op: Op;
  operand: number;
}

export interface Problem {
  /** Canonical key, e.g. "7|+5|*3|-4": equal keys ⇔ equal problems. */
  key: string;
  start: number;
  steps: ChainStep[];
  /** The problem statement given to the model. */
  problem: string;
  /** The result of the chain, as the string the grader compares against. */
  answer: string;
}

export type Split = 'train' | 'eval';

export interface Difficulty {
  minSteps: number;
  maxSteps: number;
  /** Inclusive range of the starting number. */
  start: [number, number];
  /** Inclusive operand ranges per operation. */
  add: [number, number];
  sub: [number, number];
  mul: [number, number];
  div: [number, number];
  /** Every intermediate value (and the answer) stays in [1, maxValue]. */
  maxValue: number;
  ops: readonly Op[];
  /** Optional: multiply only values up to this (keeps products to a two-digit times one-digit line). */
  mulMaxInput?: number;
}

/** The toy preset's difficulty (chosen in docs/toy.md). */
export const DEFAULT_DIFFICULTY: Difficulty = {
  minSteps: 3,
  maxSteps: 5,
  start: [2, 20],
  add: [2, 19],
  sub: [2, 19],
  mul: [2, 5],
  div: [2, 5],
  maxValue: 99,
  ops: ALL_OPS,
};

/** Share of problem keys (in percent) that belong to the held-out split. */
export const EVAL_BUCKET_PERCENT = 20;

/** Which split a problem belongs to: the hash of its key, mod 100, below EVAL_BUCKET_PERCENT ⇒ eval. */
export function splitOf(key: string): Split {
  return fnv1a(key) % 100 < EVAL_BUCKET_PERCENT ? 'eval' : 'train';
}

export function applyOp(value: number, step: ChainStep): number {
  switch (step.op) {
    case 'add':
      return value + step.operand;
    case 'sub':
      return value - step.operand;
    case 'mul':
      return value * step.operand;
    case 'div':
      return value / step.operand;
  }
}

/** The values along the chain: [start, after step 1, …, after the last step]. */
export function chainValues(start: number, steps: readonly ChainStep[]): number[] {
  const values = [start];
  let value = start;
  for (const step of steps) {
    value = applyOp(value, step);
    values.push(value);
  }
  return values;
}

const OP_SYMBOL: Record<Op, string> = { add: '+', sub: '-', mul: '*', div: '/' };
export const opSymbol = (op: Op): string => OP_SYMBOL[op];

function stepSentence(step: ChainStep): string {
  switch (step.op) {
    case 'add':
      return `Add ${step.operand}.`;
    case 'sub':
      return `Subtract ${step.operand}.`;
    case 'mul':
      return `Multiply by ${step.operand}.`;
    case 'div':
      return `Divide by ${step.operand}.`;
  }
}

export function problemKey(start: number, steps: readonly ChainStep[]): string {
  return [String(start), ...steps.map((s) => `${OP_SYMBOL[s.op]}${s.operand}`)].join('|');
}

export function problemText(start: number, steps: readonly ChainStep[]): string {
  return [`Start with ${start}.`, ...steps.map(stepSentence), 'What is the result?'].join(' ');
}

export function makeProblem(start: number, steps: ChainStep[]): Problem {
  const values = chainValues(start, steps);
  return {
    key: problemKey(start, steps),
    start,
    steps,
    problem: problemText(start, steps),
    answer: String(values[values.length - 1]),
  };
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let x = lo; x <= hi; x++) out.push(x);
  return out;
}

/** Operands of `op` that keep the value an integer in [1, maxValue] (no 0: it would absorb later steps). */
function feasibleOperands(value: number, op: Op, d: Difficulty): number[] {
  const [lo, hi] = d[op];
  if (op === 'mul' && d.mulMaxInput !== undefined && value > d.mulMaxInput) return [];
  return range(lo, hi).filter((b) => {
    const next = applyOp(value, { op, operand: b });
    return Number.isInteger(next) && next >= 1 && next <= d.maxValue;
  });
}

function validateDifficulty(d: Difficulty): void {
  const ok =
    Number.isInteger(d.minSteps) &&
    d.minSteps >= 1 &&
    Number.isInteger(d.maxSteps) &&
    d.maxSteps >= d.minSteps &&
    d.ops.length > 0 &&
    d.start[0] >= 1 &&
    d.start[1] >= d.start[0] &&
    d.start[1] <= d.maxValue &&
    (['add', 'sub', 'mul', 'div'] as const).every((op) => d[op][0] >= 1 && d[op][1] >= d[op][0]) &&
    d.div[0] >= 2 &&
    d.mul[0] >= 2 &&
    (d.mulMaxInput === undefined || (Number.isInteger(d.mulMaxInput) && d.mulMaxInput >= 1));
  if (!ok) throw new RangeError(`toy difficulty is inconsistent: ${JSON.stringify(d)}`);
}

/**
 * One random chain: a start value, then per step a uniformly chosen operation among those that have a
 * feasible operand from the current value, and a uniform feasible operand. Null if it got stuck.
 */
export function sampleChain(rng: Rng, d: Difficulty): Problem | null {
  const start = rng.int(d.start[0], d.start[1]);
  const nSteps = rng.int(d.minSteps, d.maxSteps);
  const steps: ChainStep[] = [];
  let value = start;
  for (let i = 0; i < nSteps; i++) {
    const options = d.ops
      .map((op) => ({ op, operands: feasibleOperands(value, op, d) }))
      .filter((o) => o.operands.length > 0);
    if (options.length === 0) return null;
    const choice = rng.pick(options);
    const step = { op: choice.op, operand: rng.pick(choice.operands) };
    steps.push(step);
    value = applyOp(value, step);
  }
  return makeProblem(start, steps);
}

export interface GenerateOptions {
  split: Split;
  count: number;
  seed: number;
  difficulty?: Difficulty;
}

/**
 * `count` distinct problems of one split, in generation order. The stream is seeded by (seed, split):
 * the same options always give the same list, and a longer list starts with the shorter one.
 */
export function generateProblems(options: GenerateOptions): Problem[] {
  const d = options.difficulty ?? DEFAULT_DIFFICULTY;
  validateDifficulty(d);
  const rng = new Rng(options.seed).fork(`toy-problems/${options.split}`);
  return drawDistinctProblems(options.split, options.count, () => sampleChain(rng, d));
}

/**
 * The first `count` distinct problems of `split` that `sample` draws (null = a failed draw), in draw order;
 * a RangeError when the draws keep repeating (the difficulty allows too few problems).
 */
export function drawDistinctProblems(split: Split, count: number, sample: () => Problem | null): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  const maxAttempts = 1000 + 200 * count;
  for (let attempt = 0; out.length < count; attempt++) {
    if (attempt >= maxAttempts) {
      throw new RangeError(
        `only ${out.length} distinct ${split} problems found in ${maxAttempts} draws; ` +
          `the difficulty allows too few problems for count ${count}`,
      );
    }
    const p = sample();
    if (p === null || seen.has(p.key) || splitOf(p.key) !== split) continue;
    seen.add(p.key);
    out.push(p);
  }
  return out;
}

/** Rebuilds a problem from its key (e.g. for data files that store the key). */
export function parseProblemKey(key: string): Problem {
  const [head, ...rest] = key.split('|');
  const start = Number(head);
  const symbols: Record<string, Op> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div' };
  const steps = rest.map((part) => {
    const op = symbols[part[0] ?? ''];
    const operand = Number(part.slice(1));
    if (op === undefined || !Number.isInteger(operand)) throw new RangeError(`bad problem key ${key}`);
    return { op, operand };
  });
  if (!Number.isInteger(start) || steps.length === 0) throw new RangeError(`bad problem key ${key}`);
  return makeProblem(start, steps);
}
