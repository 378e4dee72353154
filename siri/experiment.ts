// The toy replication's methods (issue 8, the paper's Table 1 rows at toy scale): every method starts
// from the same base checkpoint with the same seed policy and the same number of steps, and differs only
// in its length schedule L(t). Pure: workflows import it.
import type { RunConfig } from './config';
import type { ScheduleConfig } from './schedule';

export interface ExperimentMethod {
  /** Run id suffix and report label, e.g. "siri-cosine". */
  name: string;
  description: string;
  schedule: ScheduleConfig;
}

/**
 * The methods compared, built from the base config's lMax/lMin/cycle (a cyclic schedule):
 *   SIRI cosine / stair / stair-cosine (the paper's schedulers), DAPO at constant lMax, DeepScaleR-style
 *   stages (lMin for the first half, then lMax), and pure truncation at constant lMin.
 * `only` picks some of them by name (kept in this order); an unknown name is a RangeError listing the valid ones.
 */
export function experimentMethods(base: RunConfig, only?: readonly string[]): ExperimentMethod[] {
  const all = allExperimentMethods(base);
  if (only === undefined) return all;
  const known = `the methods are ${all.map((m) => m.name).join(', ')}`;
  const unknown = only.filter((name) => !all.some((m) => m.name === name));
  if (unknown.length > 0) {
    throw new RangeError(`unknown method ${unknown.map((n) => `"${n}"`).join(', ')}; ${known}`);
  }
  if (only.length === 0) throw new RangeError(`no method chosen; ${known}`);
  // The canonical order (the report's rows and the base evaluation, which the first method runs).
  return all.filter((m) => only.includes(m.name));
}

function allExperimentMethods(base: RunConfig): ExperimentMethod[] {
  const s = base.schedule;
  if (s.kind !== 'cosine' && s.kind !== 'stair' && s.kind !== 'stair-cosine') {
    throw new RangeError(
      `the experiment needs a cyclic base schedule (cosine, stair or stair-cosine), got ${s.kind}`,
    );
  }
  const cyclic = {
    lMax: s.lMax,
    lMin: s.lMin,
    cycle: s.cycle,
    ...(s.phase !== undefined ? { phase: s.phase } : {}),
  };
  const half = Math.max(1, Math.floor(base.totalSteps / 2));
  return [
    { name: 'siri-cosine', description: 'SIRI, cosine scheduler', schedule: { kind: 'cosine', ...cyclic } },
    { name: 'siri-stair', description: 'SIRI, stair scheduler', schedule: { kind: 'stair', ...cyclic } },
    {
      name: 'siri-stair-cosine',
      description: 'SIRI, stair-cosine scheduler',
      schedule: { kind: 'stair-cosine', ...cyclic },
    },
    {
      name: 'dapo-lmax',
      description: `DAPO baseline, constant L = ${s.lMax}`,
      schedule: { kind: 'constant', lMax: s.lMax },
    },
    {
      name: 'deepscaler',
      description: `DeepScaleR-style stages: ${s.lMin} then ${s.lMax} from step ${half}`,
      schedule: {
        kind: 'stages',
        stages: [
          { fromStep: 0, length: s.lMin },
          { fromStep: half, length: s.lMax },
        ],
      },
    },
    {
      name: 'truncation-lmin',
      description: `pure truncation, constant L = ${s.lMin}`,
      schedule: { kind: 'constant', lMax: s.lMin },
    },
  ];
}

/** The run config of one method: the base config with only the schedule replaced. */
export function methodConfig(base: RunConfig, method: ExperimentMethod): RunConfig {
  return { ...base, schedule: method.schedule };
}

// ---------------------------------------------------------------------------------------------------
// Several training seeds per method: the runs, and the comparison across seeds

/** One training run of the experiment: a method trained with one seed. */
export interface ExperimentRun {
  method: ExperimentMethod;
  seed: number;
  /** Run id and directory name: the method's name alone for a single-seed experiment, else `<method>-seed<S>`. */
  name: string;
  /** The first run of each seed evaluates the base model under that seed's sampling. */
  evaluateBase: boolean;
}

/**
 * The runs of an experiment, seed-major (every method of the first seed, then the next seed), so that a
 * partial experiment already holds whole comparisons. Without `seeds` (or with just the base config's seed)
 * the experiment keeps the single-seed layout: one run per method named after it. Seeds must be distinct
 * non-negative integers.
 */
export function experimentRuns(
  base: RunConfig,
  methods: readonly ExperimentMethod[],
  seeds?: readonly number[],
): ExperimentRun[] {
  const chosen = seeds ?? [base.seed];
  if (chosen.length === 0) throw new RangeError('no seed chosen; give one or more, e.g. 0,1,2');
  for (const seed of chosen) {
    if (!Number.isInteger(seed) || seed < 0) {
      throw new RangeError(`seed ${seed} is not a non-negative integer`);
    }
  }
  const duplicate = chosen.find((seed, i) => chosen.indexOf(seed) !== i);
  if (duplicate !== undefined) throw new RangeError(`seed ${duplicate} is given twice`);
  const singleSeed = chosen.length === 1 && chosen[0] === base.seed;
  return chosen.flatMap((seed) =>
    methods.map((method, index) => ({
      method,
      seed,
      name: singleSeed ? method.name : `${method.name}-seed${seed}`,
      evaluateBase: index === 0,
    })),
  );
}

/** The run config of one run: the method's schedule and the run's seed. */
export function runConfig(base: RunConfig, run: ExperimentRun): RunConfig {
  return { ...methodConfig(base, run.method), seed: run.seed };
}

/** One checkpoint's score in one seed's run, e.g. siri-cosine's SIRI-high with seed 2. */
export interface SeedScore {
  /** What is compared across seeds: "Base", "siri-cosine SIRI-high", "dapo-lmax final", … */
  label: string;
  seed: number;
  accuracy: number;
  meanLength: number;
  /**
   * Per dataset, each held-out problem's pass rate (mean correct over its samples), indexed by problem, when
   * the evaluation's samples are at hand: they give the difference's spread over problems.
   */
  problemPassRates?: Readonly<Record<string, readonly number[]>>;
}

/** Mean ± standard error over seeds, and the difference to a reference paired by seed. */
export interface AcrossSeeds {
  label: string;
  seeds: number[];
  meanAccuracy: number;
  /** sd / √n over the seeds (unbiased sd); null with one seed. */
  accuracyStandardError: number | null;
  meanLength: number;
  /** mean over the seeds both have of (accuracy − the reference's), its standard error, and n. */
  versusReference: {
    difference: number;
    standardError: number | null;
    seeds: number;
    /** The same difference's standard error over the held-out problems (problemStandardError); null without samples. */
    problemStandardError: number | null;
  } | null;
}

/**
 * Summarizes each label's scores over the training seeds. The difference to `reference` is paired by seed,
 * d_s = acc(label, s) − acc(reference, s), mean(d) ± sd(d)/√n, so it carries both the training noise (the
 * seed decides the run) and the evaluation noise, but not the spread that seeds share (the choice of held-out
 * problems: problemStandardError gives that one when the samples are at hand). Labels keep the order
 * of their first score.
 */
export function compareAcrossSeeds(scores: readonly SeedScore[], reference: string): AcrossSeeds[] {
  const byLabel = new Map<string, Map<number, SeedScore>>();
  for (const score of scores) {
    const seeds = byLabel.get(score.label) ?? new Map<number, SeedScore>();
    if (seeds.has(score.seed)) {
      throw new RangeError(`${score.label} has two scores for seed ${score.seed}`);
    }
    seeds.set(score.seed, score);
    byLabel.set(score.label, seeds);
  }
  const referenceScores = byLabel.get(reference);
  return [...byLabel].map(([label, seeds]) => {
    const values = [...seeds.values()];
    const accuracy = meanAndStandardError(values.map((s) => s.accuracy));
    let versusReference: AcrossSeeds['versusReference'] = null;
    if (referenceScores && label !== reference) {
      const diffs = values.flatMap((s) => {
        const ref = referenceScores.get(s.seed);
        return ref ? [s.accuracy - ref.accuracy] : [];
      });
      if (diffs.length > 0) {
        const d = meanAndStandardError(diffs);
        const paired = values.flatMap((s) => {
          const ref = referenceScores.get(s.seed);
          return ref ? [{ scores: s.problemPassRates, reference: ref.problemPassRates }] : [];
        });
        versusReference = {
          difference: d.mean,
          standardError: d.standardError,
          seeds: diffs.length,
          problemStandardError: problemStandardError(paired),
        };
      }
    }
    return {
      label,
      seeds: values.map((s) => s.seed),
      meanAccuracy: accuracy.mean,
      accuracyStandardError: accuracy.standardError,
      meanLength: values.reduce((sum, s) => sum + s.meanLength, 0) / values.length,
      versusReference,
    };
  });
}

type PassRates = Readonly<Record<string, readonly number[]>>;

/**
 * The standard error, over the held-out problems, of a difference in pass@1 averaged over seeds. The seeds
 * all share one held-out set, so the SE over seeds cannot see how much the difference owes to that set's
 * choice of problems; this one does. Per dataset d with P_d problems, each problem's difference averaged
 * over the seeds, δ_p = mean_s (r_label(s, p) − r_ref(s, p)), and since pass@1 is the mean of the datasets'
 * means,  SE² = Σ_d sd_d(δ)² / P_d / D².  Null unless every paired seed has both sides' rates and each
 * dataset has the same problems (≥ 2) in all of them.
 */
export function problemStandardError(
  paired: readonly { scores: PassRates | undefined; reference: PassRates | undefined }[],
): number | null {
  if (paired.length === 0 || paired.some((p) => !p.scores || !p.reference)) return null;
  const datasets = Object.keys(paired[0]!.scores!).sort();
  if (datasets.length === 0) return null;
  let variance = 0;
  for (const dataset of datasets) {
    const problems = paired[0]!.scores![dataset]!.length;
    const sameShape = paired.every(
      (p) => p.scores![dataset]?.length === problems && p.reference![dataset]?.length === problems,
    );
    if (!sameShape || problems < 2) return null;
    const deltas = Array.from({ length: problems }, (_, i) => {
      const sum = paired.reduce((acc, p) => acc + p.scores![dataset]![i]! - p.reference![dataset]![i]!, 0);
      return sum / paired.length;
    });
    const se = meanAndStandardError(deltas).standardError!;
    variance += se * se;
  }
  return Math.sqrt(variance) / datasets.length;
}

function meanAndStandardError(values: readonly number[]): { mean: number; standardError: number | null } {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, standardError: null };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { mean, standardError: Math.sqrt(variance / n) };
}
