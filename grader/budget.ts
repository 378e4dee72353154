// Cooperative time/size budget for one grade. The grader is synchronous and must always return, so every
// loop and recursion that depends on the input calls `tick()`; past the step limit or the deadline it
// throws GradeAbort, which gradeResponse turns into `correct: false` with the abort's reason.
// Steps are the deterministic bound (the same input always stops at the same point; the default 2,000,000
// steps take well under 1 s, see grader/README.md). The wall-clock deadline needs a clock, which pure code
// may not read: Node callers pass one (grader/node/index.ts does, with performance.now); inside Temporal
// workflow code there is none, and the step bound alone keeps grades deterministic.

export type AbortReason = 'timeout' | 'too-deep' | 'too-large';

export class GradeAbort extends Error {
  constructor(readonly reason: AbortReason) {
    super(`grade aborted: ${reason}`);
    this.name = 'GradeAbort';
  }
}

/** Milliseconds from an arbitrary origin (e.g. performance.now). */
export type Clock = () => number;

export interface BudgetLimits {
  /** Wall-clock limit in milliseconds (default 1000); enforced when a clock is given. */
  timeoutMs: number;
  /** Deterministic work limit: number of scanner/parser/evaluator steps (default 2,000,000). */
  maxSteps: number;
  /** Deepest nesting the parser and evaluator accept (default 200). */
  maxDepth: number;
}

export const DEFAULT_LIMITS: BudgetLimits = { timeoutMs: 1000, maxSteps: 2_000_000, maxDepth: 200 };

/** Clock check period: the clock is read once every CLOCK_PERIOD steps. */
const CLOCK_PERIOD = 512;

export class Budget {
  private steps = 0;
  private nextClockCheck = CLOCK_PERIOD;
  private readonly deadline: number;

  constructor(
    readonly limits: BudgetLimits = DEFAULT_LIMITS,
    private readonly clock: Clock | null = null,
  ) {
    this.deadline = clock === null ? Infinity : clock() + limits.timeoutMs;
  }

  /** Spend `n` steps; throws GradeAbort('timeout') once the step limit or the deadline is passed. */
  tick(n = 1): void {
    this.steps += n;
    if (this.steps > this.limits.maxSteps) throw new GradeAbort('timeout');
    if (this.steps >= this.nextClockCheck) {
      this.nextClockCheck = this.steps + CLOCK_PERIOD;
      if (this.clock !== null && this.clock() > this.deadline) throw new GradeAbort('timeout');
    }
  }

  /** Throws GradeAbort('too-deep') when a recursion reaches the depth limit. */
  checkDepth(depth: number): void {
    if (depth > this.limits.maxDepth) throw new GradeAbort('too-deep');
  }

  get used(): number {
    return this.steps;
  }
}
