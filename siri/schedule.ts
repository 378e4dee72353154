// Length schedulers: L(t), the max new tokens of every rollout at training step t, and the helpers
// built on it (phase name, iteration index, the named IterK checkpoints). Pure and deterministic:
// workflow code imports this module, so no Node APIs, no I/O, no clocks, no randomness.
//
// Step convention (used by every function here):
//   - `step` t is the 0-based index of a training step. The rollouts of step t are generated with
//     max new tokens L(t) = maxTokensAt(schedule, t), then the policy is updated once.
//   - A checkpoint "at step t" holds the weights written right AFTER step t's update, i.e. after t + 1
//     updates, the last of which trained on rollouts capped at L(t).
//
// Cyclic kinds (cosine, stair, stair-cosine) share one phase: with u = (t + phase) mod T and
// φ = 2π·u/T, L = lMax at u = 0 (cycle start) and L = lMin at u = T/2 (mid-cycle).
import { z } from 'zod';

const positiveInt = z.number().int().min(1);

/** Fields common to the cyclic schedules. `phase` (steps, any integer) shifts the cycle: L(t) uses t + phase. */
const cyclicFields = {
  lMax: positiveInt,
  lMin: positiveInt,
  /**
   * Cycle length T in steps. At least 3, so every cycle has an expansion step and its two named
   * checkpoints (after u = floor(T/2) and after u = T − 1) are different steps.
   */
  cycle: z.number().int().min(3),
  phase: z.number().int().optional(),
  /** Rounding granularity in tokens (default 1): L is rounded half up to a multiple of it, then clamped. */
  granularity: positiveInt.optional(),
};

function checkLMinNotAboveLMax(s: { lMax: number; lMin: number }, ctx: z.RefinementCtx): void {
  if (s.lMin > s.lMax) {
    ctx.addIssue({
      code: 'custom',
      path: ['lMin'],
      message: `expected lMin <= lMax (${s.lMax}), got ${s.lMin}`,
    });
  }
}

export const CosineScheduleSchema = z
  .strictObject({ kind: z.literal('cosine'), ...cyclicFields })
  .superRefine(checkLMinNotAboveLMax);
export const StairScheduleSchema = z
  .strictObject({ kind: z.literal('stair'), ...cyclicFields })
  .superRefine(checkLMinNotAboveLMax);
export const StairCosineScheduleSchema = z
  .strictObject({ kind: z.literal('stair-cosine'), ...cyclicFields })
  .superRefine(checkLMinNotAboveLMax);

/** The plain DAPO baseline: every step uses lMax. */
export const ConstantScheduleSchema = z.strictObject({ kind: z.literal('constant'), lMax: positiveInt });

/** DeepScaleR-style stages: stage i's length applies from its fromStep until the next stage starts. */
export const StagesScheduleSchema = z
  .strictObject({
    kind: z.literal('stages'),
    stages: z.array(z.strictObject({ fromStep: z.number().int().min(0), length: positiveInt })).min(1),
  })
  .refine((s) => s.stages[0]?.fromStep === 0, {
    path: ['stages', 0, 'fromStep'],
    message: 'expected the first stage to start at fromStep 0',
  })
  .refine((s) => s.stages.every((st, i) => i === 0 || st.fromStep > (s.stages[i - 1]?.fromStep ?? -1)), {
    path: ['stages'],
    message: 'expected fromStep to be strictly increasing',
  });

/** Explicit points, linear in between; before the first point its length, after the last point its length. */
export const PiecewiseScheduleSchema = z
  .strictObject({
    kind: z.literal('piecewise'),
    points: z.array(z.strictObject({ step: z.number().int().min(0), length: positiveInt })).min(1),
    granularity: positiveInt.optional(),
  })
  .refine((s) => s.points.every((p, i) => i === 0 || p.step > (s.points[i - 1]?.step ?? -1)), {
    path: ['points'],
    message: 'expected point steps to be strictly increasing',
  });

export const ScheduleSchema = z.discriminatedUnion('kind', [
  CosineScheduleSchema,
  StairScheduleSchema,
  StairCosineScheduleSchema,
  ConstantScheduleSchema,
  StagesScheduleSchema,
  PiecewiseScheduleSchema,
]);

export type ScheduleConfig = z.infer<typeof ScheduleSchema>;
export type ScheduleKind = ScheduleConfig['kind'];
export type CyclicScheduleConfig = Extract<ScheduleConfig, { kind: 'cosine' | 'stair' | 'stair-cosine' }>;
export type SchedulePhase = 'compression' | 'expansion' | 'hold';

export const SCHEDULE_KINDS: readonly ScheduleKind[] = [
  'cosine',
  'stair',
  'stair-cosine',
  'constant',
  'stages',
  'piecewise',
];

/** The paper's settings: 16384 ↔ 8192 tokens, a 640-step cycle. */
export const PAPER_SCHEDULE_DEFAULTS = { lMax: 16384, lMin: 8192, cycle: 640 } as const;

/** Validates an unknown value as a schedule; throws zod's error when it is not one. */
export function parseSchedule(value: unknown): ScheduleConfig {
  return ScheduleSchema.parse(value);
}

export function isCyclic(schedule: ScheduleConfig): schedule is CyclicScheduleConfig {
  return schedule.kind === 'cosine' || schedule.kind === 'stair' || schedule.kind === 'stair-cosine';
}

function assertStep(step: number): void {
  if (!Number.isInteger(step) || step < 0)
    throw new RangeError(`step must be a non-negative integer, got ${step}`);
}

/** Mathematical modulo: result in [0, m) also for negative a. */
export function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * Rounds half up to a multiple of `granularity`. The 1e-9 slack makes exact halves that cos() lands a
 * hair below (e.g. cos(π/2) = 6e-17, not 0) round up as they would in exact arithmetic.
 */
export function roundHalfUp(value: number, granularity = 1): number {
  return Math.floor(value / granularity + 0.5 + 1e-9) * granularity;
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

/** Position of step t inside its cycle: u = (t + phase) mod T, in [0, T). */
export function cyclePosition(schedule: CyclicScheduleConfig, step: number): number {
  return mod(step + (schedule.phase ?? 0), schedule.cycle);
}

/**
 * The unrounded cyclic length at cycle position u. All three kinds are symmetric about mid-cycle
 * (L(u) = L(T − u)), so we evaluate at the mirrored position m = min(u, T − u) ∈ [0, T/2]; this keeps
 * the symmetry exact in floating point and equals the paper's piecewise form on its own ranges.
 */
function cyclicRawLength(schedule: CyclicScheduleConfig, u: number): number {
  const { lMax, lMin, cycle: T } = schedule;
  const m = Math.min(u, T - u);
  const mid = (lMax + lMin) / 2;
  const half = (lMax - lMin) / 2;
  const phi = (2 * Math.PI * m) / T;
  switch (schedule.kind) {
    case 'cosine':
      // L = (lMax+lMin)/2 + (lMax−lMin)/2 · cos φ
      return mid + half * Math.cos(phi);
    case 'stair':
      // lMax where cos φ >= 0 (φ <= π/2, i.e. m <= T/4), lMin elsewhere: jumps after T/4 and before 3T/4.
      return 4 * m <= T ? lMax : lMin;
    case 'stair-cosine':
      // Paper: lMax for φ < π/4 (or φ >= 7π/4); ramp (lMax+lMin)/2 + (lMax−lMin)/2 · cos(2(φ − π/4)) for
      // π/4 <= φ < 3π/4; lMin for 3π/4 <= φ < 5π/4; the mirrored ramp cos(2(φ − 3π/4)) for 5π/4 <= φ < 7π/4.
      // On the mirrored half: m <= T/8 → lMax (the ramp starts at lMax), m >= 3T/8 → lMin, else the ramp.
      if (8 * m <= T) return lMax;
      if (8 * m >= 3 * T) return lMin;
      return mid + half * Math.cos(2 * (phi - Math.PI / 4));
  }
}

function stagesLength(stages: readonly { fromStep: number; length: number }[], step: number): number {
  let length = stages[0]?.length ?? 0;
  for (const stage of stages) {
    if (stage.fromStep <= step) length = stage.length;
    else break;
  }
  return length;
}

function piecewiseRawLength(points: readonly { step: number; length: number }[], step: number): number {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) throw new RangeError('piecewise schedule needs at least one point');
  if (step <= first.step) return first.length;
  if (step >= last.step) return last.length;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (a && b && step <= b.step) {
      // Linear between (a.step, a.length) and (b.step, b.length).
      return a.length + ((b.length - a.length) * (step - a.step)) / (b.step - a.step);
    }
  }
  return last.length;
}

/**
 * L(t): max new tokens for the rollouts of training step t (0-based). Cyclic and piecewise kinds round
 * half up to the granularity and clamp to [lMin, lMax] (piecewise: to the range of its points).
 */
export function maxTokensAt(schedule: ScheduleConfig, step: number): number {
  assertStep(step);
  switch (schedule.kind) {
    case 'cosine':
    case 'stair':
    case 'stair-cosine': {
      const raw = cyclicRawLength(schedule, cyclePosition(schedule, step));
      return clamp(roundHalfUp(raw, schedule.granularity ?? 1), schedule.lMin, schedule.lMax);
    }
    case 'constant':
      return schedule.lMax;
    case 'stages':
      return stagesLength(schedule.stages, step);
    case 'piecewise': {
      const lengths = schedule.points.map((p) => p.length);
      const raw = piecewiseRawLength(schedule.points, step);
      return clamp(roundHalfUp(raw, schedule.granularity ?? 1), Math.min(...lengths), Math.max(...lengths));
    }
  }
}

/** The smallest and largest L the schedule can produce. */
export function scheduleBounds(schedule: ScheduleConfig): { min: number; max: number } {
  switch (schedule.kind) {
    case 'cosine':
    case 'stair':
    case 'stair-cosine':
      return { min: schedule.lMin, max: schedule.lMax };
    case 'constant':
      return { min: schedule.lMax, max: schedule.lMax };
    case 'stages': {
      const lengths = schedule.stages.map((s) => s.length);
      return { min: Math.min(...lengths), max: Math.max(...lengths) };
    }
    case 'piecewise': {
      const lengths = schedule.points.map((p) => p.length);
      return { min: Math.min(...lengths), max: Math.max(...lengths) };
    }
  }
}

/**
 * The phase of step t.
 * - Cyclic kinds: the cycle's halves, for all three kinds alike. `compression` for cycle positions
 *   0 <= u <= T/2 (the budget falls from lMax to its minimum, which is the last compression step), and
 *   `expansion` for T/2 < u < T (it climbs back). For `stair` / `stair-cosine` the plateaus belong to the
 *   half they sit in; the names describe the half of the cycle, not the local slope.
 * - `piecewise`: the slope of the segment holding t (a point shared by two segments belongs to the one
 *   arriving at it; the first point to the first segment): falling → compression, rising → expansion,
 *   flat or outside the points → hold.
 * - `constant` and `stages`: always `hold` (a stage change is an instantaneous jump, not a phase).
 */
export function phaseAt(schedule: ScheduleConfig, step: number): SchedulePhase {
  assertStep(step);
  switch (schedule.kind) {
    case 'cosine':
    case 'stair':
    case 'stair-cosine':
      return 2 * cyclePosition(schedule, step) <= schedule.cycle ? 'compression' : 'expansion';
    case 'constant':
    case 'stages':
      return 'hold';
    case 'piecewise': {
      const pts = schedule.points;
      for (let i = 1; i < pts.length; i++) {
        const a = pts[i - 1];
        const b = pts[i];
        if (!a || !b) continue;
        if (step >= a.step && step <= b.step) {
          if (b.length < a.length) return 'compression';
          if (b.length > a.length) return 'expansion';
          return 'hold';
        }
      }
      return 'hold';
    }
  }
}

/**
 * The 0-based iteration (compression–expansion cycle) holding step t. Cycles are aligned to the shape:
 * with p = phase mod T, iteration = floor((t + p) / T), so a new iteration starts wherever L returns to
 * lMax (u = 0). With phase 0, iteration k covers steps kT … kT + T − 1. Non-cyclic kinds: always 0.
 */
export function iterationAt(schedule: ScheduleConfig, step: number): number {
  assertStep(step);
  if (!isCyclic(schedule)) return 0;
  const p = mod(schedule.phase ?? 0, schedule.cycle);
  return Math.floor((step + p) / schedule.cycle);
}

export interface NamedCheckpoint {
  /** `Iter${K}-Compressed` or `Iter${K}-Expanded`, K = iteration + 1 (1-based). */
  name: string;
  /** The training step (0-based) after whose update this checkpoint is written; L(step) was its last cap. */
  step: number;
  /** K, the 1-based iteration in the name (iterationAt(schedule, step) + 1). */
  iteration: number;
  /** Updates the checkpoint's weights have seen: step + 1. */
  completedSteps: number;
}

/**
 * The named checkpoints of a run of `totalSteps` steps (steps 0 … totalSteps − 1), in step order.
 * For cyclic kinds, iteration K (1-based) gives:
 *   - `IterK-Compressed`: after the last compression step, u = floor(T/2), where L is at its minimum;
 *   - `IterK-Expanded`: after the last step of the cycle, u = T − 1.
 * Only checkpoints whose step lies inside the run are listed (a phase offset can leave iteration 1
 * without its compressed checkpoint). Non-cyclic kinds have no named checkpoints.
 * Example (phase 0, T = 640, 1920 steps): Iter1-Compressed at step 320, Iter1-Expanded at 639,
 * Iter2-Compressed at 960, …, Iter3-Expanded at 1919 (the final weights).
 */
export function namedCheckpoints(schedule: ScheduleConfig, totalSteps: number): NamedCheckpoint[] {
  if (!Number.isInteger(totalSteps) || totalSteps < 0) {
    throw new RangeError(`totalSteps must be a non-negative integer, got ${totalSteps}`);
  }
  if (!isCyclic(schedule)) return [];
  const T = schedule.cycle;
  const p = mod(schedule.phase ?? 0, T);
  const found: NamedCheckpoint[] = [];
  for (let k = 0; k * T - p < totalSteps; k++) {
    const cycleStart = k * T - p; // the step whose position u is 0 in iteration k (negative if before the run)
    const marks: [string, number][] = [
      ['Compressed', cycleStart + Math.floor(T / 2)],
      ['Expanded', cycleStart + T - 1],
    ];
    for (const [suffix, step] of marks) {
      if (step >= 0 && step < totalSteps) {
        found.push({ name: `Iter${k + 1}-${suffix}`, step, iteration: k + 1, completedSteps: step + 1 });
      }
    }
  }
  return found;
}

/** L(t) for t = 0 … steps − 1 as {step, maxTokens} rows. */
export function scheduleTable(
  schedule: ScheduleConfig,
  steps: number,
): { step: number; maxTokens: number }[] {
  const rows: { step: number; maxTokens: number }[] = [];
  for (let t = 0; t < steps; t++) rows.push({ step: t, maxTokens: maxTokensAt(schedule, t) });
  return rows;
}

/** One line naming the schedule and its parameters (for logs and the CLI plot). */
export function describeSchedule(schedule: ScheduleConfig): string {
  switch (schedule.kind) {
    case 'cosine':
    case 'stair':
    case 'stair-cosine':
      return (
        `${schedule.kind} lMax ${schedule.lMax} lMin ${schedule.lMin} cycle ${schedule.cycle}` +
        ` phase ${schedule.phase ?? 0} granularity ${schedule.granularity ?? 1}`
      );
    case 'constant':
      return `constant ${schedule.lMax}`;
    case 'stages':
      return `stages ${schedule.stages.map((s) => `${s.length}@${s.fromStep}`).join(' ')}`;
    case 'piecewise':
      return `piecewise ${schedule.points.map((p) => `${p.length}@${p.step}`).join(' ')}`;
  }
}
