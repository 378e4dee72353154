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
