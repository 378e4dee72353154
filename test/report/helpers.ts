// In-memory building blocks for the report's pure tests: hand-made evaluations and runs (no files).
import type { EvaluationEntry, ReportModel, RunData } from '../../report/model';
import type { DatasetEvalResult, StepMetrics } from '../../workflows/types';
import type { ScheduleConfig } from '../../siri/schedule';

export function dataset(
  name: string,
  pass1: number,
  meanLength: number,
  extra: Partial<DatasetEvalResult> = {},
): DatasetEvalResult {
  return {
    name,
    file: `/data/${name}.jsonl`,
    problems: 10,
    samplesPerProblem: 4,
    pass1,
    passAtK: { '1': pass1 },
    meanLength,
    meanLengthCorrect: meanLength,
    meanLengthIncorrect: meanLength,
    truncationRate: 0,
    keywordsPer1k: { correct: {}, incorrect: {} },
    meanEntropy: null,
    skipped: 0,
    ...extra,
  };
}

export function evaluation(
  label: string,
  datasets: DatasetEvalResult[],
  extra: Partial<EvaluationEntry> = {},
): EvaluationEntry {
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    label,
    group: 'evaluations',
    kind: 'results',
    step: null,
    checkpointName: null,
    modelPath: null,
    summary: {
      step: extra.step ?? null,
      checkpointName: extra.checkpointName ?? null,
      datasets,
      meanPass1: mean(datasets.map((d) => d.pass1)),
      meanLength: mean(datasets.map((d) => d.meanLength)),
    },
    source: `/results/${label}/results.json`,
    ...extra,
  };
}

export function run(name: string, extra: Partial<RunData> = {}): RunData {
  return {
    name,
    dir: `/runs/${name}`,
    config: null,
    schedule: null,
    totalSteps: null,
    metrics: [],
    evals: [],
    ...extra,
  };
}

export function model(extra: Partial<ReportModel> = {}): ReportModel {
  return { title: 'test', inputs: [], runs: [], results: [], base: null, notes: [], ...extra };
}

/** A minimal metrics.jsonl record for step t (fields the figures read; the rest zero). */
export function metricsAt(
  step: number,
  schedule: ScheduleConfig | null,
  fields: Partial<StepMetrics> = {},
): StepMetrics {
  return {
    step,
    iteration: 0,
    phase: 'hold',
    maxTokens: schedule && schedule.kind === 'constant' ? schedule.lMax : 1000,
    rewardMean: 0,
    accuracy: 0,
    meanLength: 0,
    medianLength: 0,
    p90Length: 0,
    meanLengthCorrect: null,
    meanLengthIncorrect: null,
    truncationRate: 0,
    keptGroups: 0,
    droppedGroups: 0,
    loss: 0,
    clipFracLow: 0,
    clipFracHigh: 0,
    entropy: 0,
    approxKl: 0,
    gradNorm: 0,
    tokens: 0,
    tokensPerSecond: 0,
    keywordsPer1k: {},
    wallMs: { rollout: 0, reward: 0, update: 0, step: 0 },
    ...fields,
  };
}
