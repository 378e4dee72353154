// The toy "teacher": writes R1-distill-style OVERTHINKING solutions of toy/problems.ts chains.
// Inside <think>: one line per step ("12 * 3 = 36."), plus re-checks: of one step ("Wait, let me verify: …",
// "Hold on, let me recompute: …", "Alternatively, 36 / 3 = 12, …") or a review of the whole chain ("Wait,
// let me go over it again."). Some steps are first written with a deliberate slip (a wrong result); every
// slip is caught by a re-check — right after the step, or by a later whole-chain review, in which case the
// steps in between were computed from the wrong value — so some verification is useful. The rest of the
// re-checks confirm what was already right: waste. After </think> the answer is given in \boxed{N}.
// Knobs: the distribution of the number of re-checks (so lengths vary: some concise, many verbose), the
// per-step slip probability, how often a re-check is a whole-chain review. Deterministic from the Rng.
import { applyOp, chainValues, opSymbol, type ChainStep, type Op, type Problem } from './problems';
import { Rng } from './random';

export interface TeacherOptions {
  /** P(number of re-checks = i) ∝ recheckWeights[i]. A slip's catch counts as one of the re-checks. */
  recheckWeights: readonly number[];
  /** Per step: probability that it is first written with a wrong result (needs a spare re-check). */
  slipProb: number;
  /** Probability that a slip is left for a later whole-chain review (when that review is possible). */
  lateCatchProb: number;
  /** Probability that a redundant re-check is a whole-chain review rather than a one-step check. */
  reviewProb: number;
  /**
   * Optional: one-step checks of a multiplication redo it by place value (`87 * 7 = 80 * 7 + 7 * 7 =
   * 560 + 49 = 609`), a longer but easier computation than the one-line product, instead of repeating
   * the line or dividing back.
   */
  decomposeChecks?: boolean;
  /**
   * Optional: probability that a trace is a confident shortcut ("leap"): no re-checks and no slips, and the
   * steps grouped 2–3 to a line, computed left to right in one go (`14 / 2 * 3 = 21.`). Shorter than the
   * step-by-step solution but harder for the model to get right, so a short budget can reward leaping.
   */
  leapProb?: number;
}

/** The teacher of the toy preset (chosen in docs/toy.md): mean ≈ 4.4 re-checks, 12% with none. */
export const DEFAULT_TEACHER: TeacherOptions = {
  recheckWeights: [12, 5, 8, 11, 14, 15, 13, 9, 7, 4, 2],
  slipProb: 0.12,
  lateCatchProb: 0.3,
  reviewProb: 0.2,
};

/**
 * Opt-in (docs/toy.md, attempt 14): the default teacher with 2.5× the slips, nearly all caught right after
 * the step. A larger share of the one-step checks now find a wrong value, so a check line must recompute
 * the step instead of copying it, which is what could let the model's re-checks catch its own errors.
 */
export const VERIFYING_TEACHER: TeacherOptions = {
  ...DEFAULT_TEACHER,
  slipProb: 0.3,
  lateCatchProb: 0.2,
};

/**
 * Opt-in (docs/toy.md, attempt 20): the verifying teacher whose checks of a multiplication decompose it by
 * place value, so a check is a more reliable computation than the line it checks, not a repeat of it.
 */
export const DECOMPOSING_TEACHER: TeacherOptions = { ...VERIFYING_TEACHER, decomposeChecks: true };

/**
 * Opt-in (docs/toy.md, attempt 30): the default teacher, with 30% of its traces leaps (`leapProb`), so the
 * model has a shorter but less reliable way to solve a long chain that only a short budget rewards.
 */
export const LEAPING_TEACHER: TeacherOptions = { ...DEFAULT_TEACHER, leapProb: 0.3 };

/** Named teachers for `scripts/make-toy-base.ts --teacher-preset`. */
export const TEACHER_PRESETS: Readonly<Record<string, TeacherOptions>> = {
  default: DEFAULT_TEACHER,
  verifying: VERIFYING_TEACHER,
  decomposing: DECOMPOSING_TEACHER,
  leaping: LEAPING_TEACHER,
};

/** No re-checks and no slips: the shortest correct solution (for analysis and comparisons). */
export const CONCISE_TEACHER: TeacherOptions = {
  recheckWeights: [1],
  slipProb: 0,
  lateCatchProb: 0,
  reviewProb: 0,
};

export interface Trace {
  /** The full response: "<think>\n…\n</think>\nThe answer is \boxed{N}." (no end-of-sequence token). */
  text: string;
  /** Re-checks written (one-step checks + whole-chain reviews, including those that caught a slip). */
  rechecks: number;
  /** Slips written (each one caught and fixed before the answer). */
  slips: number;
  /** Re-checks that caught a slip (useful verification); rechecks − usefulRechecks were waste. */
  usefulRechecks: number;
  /** The final answer in the box (always the problem's answer). */
  answer: string;
}

type StepCheckKind = 'verify' | 'recompute' | 'inverse';
const STEP_CHECK_KINDS: readonly StepCheckKind[] = ['verify', 'recompute', 'inverse'];

const INVERSE: Record<Op, Op> = { add: 'sub', sub: 'add', mul: 'div', div: 'mul' };

/** "a op b = c." */
const equation = (a: number, step: ChainStep, c: number | string): string =>
  `${a} ${opSymbol(step.op)} ${step.operand} = ${c}`;

/** The nonzero place-value parts of n, largest first: 807 → [800, 7]; 0 → [0]. */
export function placeValueParts(n: number): number[] {
  const parts: number[] = [];
  for (let scale = 1; scale <= n; scale *= 10) {
    const digit = Math.floor(n / scale) % 10;
    if (digit !== 0) parts.unshift(digit * scale);
  }
  return parts.length > 0 ? parts : [0];
}

/**
 * a · b redone by place value, ending in the true product:
 * a · b = Σ_k (d_k 10^k) · b = Σ_k (d_k b) 10^k, written "87 * 7 = 80 * 7 + 7 * 7 = 560 + 49 = 609".
 * With a single part (a < 10 or a round number) it is the plain equation.
 */
export function decomposedProduct(a: number, b: number): string {
  const parts = placeValueParts(a);
  if (parts.length === 1) return `${a} * ${b} = ${a * b}`;
  const terms = parts.map((p) => `${p} * ${b}`).join(' + ');
  const products = parts.map((p) => String(p * b)).join(' + ');
  return `${a} * ${b} = ${terms} = ${products} = ${a * b}`;
}

const decomposes = (options: TeacherOptions, step: ChainStep): boolean =>
  options.decomposeChecks === true && step.op === 'mul';

/** A one-step check of a line that was right: pure waste. */
function redundantStepCheck(
  kind: StepCheckKind,
  a: number,
  step: ChainStep,
  c: number,
  options: TeacherOptions,
): string {
  if (decomposes(options, step)) {
    const redo = decomposedProduct(a, step.operand);
    return kind === 'recompute'
      ? `Hold on, let me recompute: ${redo}. Correct.`
      : `Wait, let me verify: ${redo}. Yes, that is right.`;
  }
  switch (kind) {
    case 'verify':
      return `Wait, let me verify: ${equation(a, step, c)}. Yes, that is right.`;
    case 'recompute':
      return `Hold on, let me recompute: ${equation(a, step, c)}. Correct.`;
    case 'inverse': {
      // The inverse operation recovers the input: c − b = a, c + b = a, c / b = a, c · b = a.
      const inverse: ChainStep = { op: INVERSE[step.op], operand: step.operand };
      return `Alternatively, ${equation(c, inverse, applyOp(c, inverse))}, so that is right.`;
    }
  }
}

/**
 * A one-step check of a line that had a slip (`wrong`): it finds and fixes it. The inverse check is an
 * independent computation (c' − b ≠ a exposes c'), so it is offered whenever it stays a non-negative integer.
 */
function catchingStepCheck(
  rng: Rng,
  a: number,
  step: ChainStep,
  c: number,
  wrong: number,
  options: TeacherOptions,
): string {
  if (decomposes(options, step)) {
    const redo = decomposedProduct(a, step.operand);
    return rng.bernoulli(0.5)
      ? `Wait, let me verify: ${redo}, not ${wrong}. I made a mistake, so it is ${c}.`
      : `Hold on, let me recompute: ${redo}, not ${wrong}. So it is ${c}.`;
  }
  const inverse: ChainStep = { op: INVERSE[step.op], operand: step.operand };
  const back = applyOp(wrong, inverse);
  const kinds: StepCheckKind[] =
    Number.isInteger(back) && back >= 0 ? [...STEP_CHECK_KINDS] : ['verify', 'recompute'];
  switch (rng.pick(kinds)) {
    case 'verify':
      return `Wait, let me verify: ${equation(a, step, c)}, not ${wrong}. I made a mistake, so it is ${c}.`;
    case 'recompute':
      return `Hold on, let me recompute: ${equation(a, step, c)}, not ${wrong}. So it is ${c}.`;
    case 'inverse':
      return `Alternatively, ${equation(wrong, inverse, back)}, not ${a}. I made a mistake, so ${equation(a, step, c)}.`;
  }
}

const REVIEW_OPENERS = ['Wait, let me go over it again.', 'Let me check everything once more.'];

/** A wrong result near c: c ± 1, ± 2 or ± 10, never negative. */
function slipValue(rng: Rng, c: number): number {
  const deltas = [-10, -2, -1, 1, 2, 10].filter((d) => c + d >= 0);
  return c + rng.pick(deltas);
}

/** The plan for one step: how it is first written and which checks follow it. */
interface StepPlan {
  slip: 'none' | 'early' | 'late';
  slipValue: number;
  redundantChecks: StepCheckKind[];
}

/**
 * Writes one overthinking solution. The order of draws is fixed, so (problem, rng state, options) fully
 * determine the text.
 */
export function writeTrace(problem: Problem, rng: Rng, options: TeacherOptions = DEFAULT_TEACHER): Trace {
  // Drawn only when leaps are on, so the other teachers' traces stay as they were.
  if (options.leapProb !== undefined && options.leapProb > 0 && rng.bernoulli(options.leapProb)) {
    return leapTrace(problem, rng);
  }
  const steps = problem.steps;
  const truth = chainValues(problem.start, steps);
  let budget = rng.weighted(options.recheckWeights);

  // 1. Slips, each paid for by one re-check. An early slip is caught by the next line; a late one by a
  //    whole-chain review after the last step, which is only possible if the chain stays integral and
  //    non-negative when continued from the wrong value. After a late slip the written chain has gone
  //    wrong and later lines are computed from it, so no further slips are drawn.
  const plans: StepPlan[] = steps.map(() => ({ slip: 'none', slipValue: 0, redundantChecks: [] }));
  let lateFrom = -1;
  for (let i = 0; i < steps.length && budget > 0; i++) {
    if (!rng.bernoulli(options.slipProb)) continue;
    const plan = plans[i] as StepPlan;
    plan.slipValue = slipValue(rng, truth[i + 1] as number);
    budget -= 1;
    if (rng.bernoulli(options.lateCatchProb) && continuesCleanly(plan.slipValue, steps.slice(i + 1))) {
      plan.slip = 'late';
      lateFrom = i;
      break;
    }
    plan.slip = 'early';
  }

  // 2. The remaining re-checks are redundant: whole-chain reviews or one-step checks of random steps
  //    (never of a step whose slip awaits the review, which would catch it early).
  let reviews = lateFrom >= 0 ? 1 : 0;
  const checkable = steps.map((_, i) => i).filter((i) => lateFrom < 0 || i < lateFrom);
  for (; budget > 0; budget--) {
    if (checkable.length === 0 || rng.bernoulli(options.reviewProb)) {
      reviews += 1;
    } else {
      // Repeated checks of one step vary their wording while there are unused kinds left.
      const checks = (plans[rng.pick(checkable)] as StepPlan).redundantChecks;
      const unused = STEP_CHECK_KINDS.filter((k) => !checks.includes(k));
      checks.push(rng.pick(unused.length > 0 ? unused : STEP_CHECK_KINDS));
    }
  }

  // 3. Write it. `written` tracks the values as the lines state them (wrong after a late slip).
  const lines: string[] = [];
  let written = truth[0] as number;
  let slips = 0;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as ChainStep;
    const plan = plans[i] as StepPlan;
    const correct = applyOp(written, step);
    if (plan.slip === 'none') {
      lines.push(`${equation(written, step, correct)}.`);
    } else {
      slips += 1;
      lines.push(`${equation(written, step, plan.slipValue)}.`);
      if (plan.slip === 'early') {
        lines.push(catchingStepCheck(rng, written, step, correct, plan.slipValue, options));
      }
    }
    const next = plan.slip === 'late' ? plan.slipValue : correct;
    for (const kind of plan.redundantChecks)
      lines.push(redundantStepCheck(kind, written, step, next, options));
    written = next;
  }

  // Whole-chain reviews: each re-derives every step from the start; the first one fixes a late slip.
  const answer = truth[truth.length - 1] as number;
  for (let r = 0; r < reviews; r++) {
    lines.push(r === 0 ? (REVIEW_OPENERS[0] as string) : rng.pick(REVIEW_OPENERS));
    const fixes = r === 0 && lateFrom >= 0;
    const before = fixes ? chainFrom(truth, steps, lateFrom, plans[lateFrom]?.slipValue ?? 0) : truth;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as ChainStep;
      const right = truth[i + 1] as number;
      const stated = before[i + 1] as number;
      lines.push(
        stated === right
          ? `${equation(truth[i] as number, step, right)}.`
          : `${equation(truth[i] as number, step, right)}, not ${stated}.`,
      );
    }
    lines.push(
      fixes ? `I made a mistake before, so the result is ${answer}.` : `So the result is ${answer}.`,
    );
  }

  const text = traceText(lines, answer);
  const rechecks = plans.reduce(
    (n, p) => n + (p.slip === 'early' ? 1 : 0) + p.redundantChecks.length,
    reviews,
  );
  return { text, rechecks, slips, usefulRechecks: slips, answer: String(answer) };
}

/** The response around the think lines: "<think>\n…\n</think>\nThe answer is \\boxed{N}." */
function traceText(lines: readonly string[], answer: number): string {
  return ['<think>', ...lines, '</think>', `The answer is \\boxed{${answer}}.`].join('\n');
}

/**
 * One leap line: the steps applied left to right from `a`, written as one expression and its result,
 * e.g. leapLine(14, [/2, *3]) = "14 / 2 * 3 = 21." (the chain's order, not operator precedence).
 */
export function leapLine(a: number, steps: readonly ChainStep[]): string {
  const values = chainValues(a, steps);
  const expression = [String(a), ...steps.map((s) => `${opSymbol(s.op)} ${s.operand}`)].join(' ');
  return `${expression} = ${values[values.length - 1]}.`;
}

/** Group sizes (2 or 3, a last single step if one is left) that cover `n` steps, drawn from `rng`. */
export function leapGroups(n: number, rng: Rng): number[] {
  const sizes: number[] = [];
  for (let left = n; left > 0;) {
    const size = left === 1 ? 1 : Math.min(left, rng.bernoulli(0.5) ? 2 : 3);
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

/** A confident shortcut: the chain in leaps of 2–3 steps per line, no re-checks, no slips. */
function leapTrace(problem: Problem, rng: Rng): Trace {
  const truth = chainValues(problem.start, problem.steps);
  const lines: string[] = [];
  let at = 0;
  for (const size of leapGroups(problem.steps.length, rng)) {
    lines.push(leapLine(truth[at] as number, problem.steps.slice(at, at + size)));
    at += size;
  }
  const answer = truth[truth.length - 1] as number;
  const text = traceText(lines, answer);
  return { text, rechecks: 0, slips: 0, usefulRechecks: 0, answer: String(answer) };
}

/** Whether continuing the chain from a wrong value keeps every value a non-negative integer. */
function continuesCleanly(value: number, rest: readonly ChainStep[]): boolean {
  return chainValues(value, rest).every((v) => Number.isInteger(v) && v >= 0);
}

/** The values as written when step `slipAt` wrote `wrong` and later steps continued from it. */
function chainFrom(
  truth: readonly number[],
  steps: readonly ChainStep[],
  slipAt: number,
  wrong: number,
): number[] {
  return [...truth.slice(0, slipAt + 1), ...chainValues(wrong, steps.slice(slipAt + 1))];
}

/** The shortest correct solution (no re-checks, no slips). */
export function conciseTrace(problem: Problem): Trace {
  return writeTrace(problem, new Rng(0), CONCISE_TEACHER);
}

/** One trace per problem, each from its own stream fork(seed, problem key): stable under reordering. */
export function writeTraces(
  problems: readonly Problem[],
  seed: number,
  options: TeacherOptions = DEFAULT_TEACHER,
) {
  const base = new Rng(seed).fork('toy-teacher');
  return problems.map((p) => writeTrace(p, base.fork(p.key), options));
}
