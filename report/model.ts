// The report's in-memory model: everything `siri report` draws, loaded from training-run directories
// (config.json, metrics.jsonl, evals/<name>/results.json) and evaluation-results directories
// (results.json). Loading is forgiving: a missing or malformed piece becomes a note, and the figures that
// need it are omitted, never a crash. The derivations at the bottom are pure.
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ScheduleSchema, type ScheduleConfig } from '../siri/schedule';
import type { DatasetEvalResult, EvalSummary, StepMetrics } from '../workflows/types';
import { EvalSummarySchema, RESULTS_JSON, readEvalResults } from '../eval/results';

/** One evaluation of one model: a checkpoint of a run, or a standalone results directory. */
export interface EvaluationEntry {
  /** Unique among the report's evaluations; the row name in Table 1 and the point label in Figure 1. */
  label: string;
  /** The run's name for checkpoints; "evaluations" for standalone results. */
  group: string;
  kind: 'checkpoint' | 'results';
  step: number | null;
  checkpointName: string | null;
  modelPath: string | null;
  summary: EvalSummary;
  /** The results.json (or metrics.jsonl) it came from. */
  source: string;
}

export interface RunData {
  name: string;
  dir: string;
  /** config.json as written by the training workflow (null when absent or unreadable). */
  config: Record<string, unknown> | null;
  schedule: ScheduleConfig | null;
  totalSteps: number | null;
  /** metrics.jsonl, one record per step, sorted by step (a re-written step keeps its last record). */
  metrics: StepMetrics[];
  /** Checkpoint evaluations from evals/<name>/results.json, sorted by step. */
  evals: EvaluationEntry[];
}

export interface ReportModel {
  title: string;
  inputs: string[];
  runs: RunData[];
  /** Standalone results directories, in the order given. */
  results: EvaluationEntry[];
  /** The reference row of the accuracy–compression ratio (Table 1), or null. */
  base: EvaluationEntry | null;
  /** Things that could not be loaded, as sentences for the report. */
  notes: string[];
}

export interface LoadOptions {
  /** Label or directory of the base model's evaluation; see chooseBase. */
  base?: string;
  title?: string;
}

export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

// ---------------------------------------------------------------------------------------------------
// Loading

type InputKind = 'run' | 'results';

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** A run dir has config.json or metrics.jsonl; a results dir has results.json. */
function classify(dir: string): InputKind | null {
  if (existsSync(join(dir, 'metrics.jsonl')) || existsSync(join(dir, 'config.json'))) return 'run';
  if (existsSync(join(dir, RESULTS_JSON))) return 'results';
  return null;
}

/**
 * The run and results directories an input names: itself, its parent for a results.json file, or —
 * for a folder that is neither — the run/results directories one level below it.
 */
async function discover(input: string): Promise<{ dir: string; kind: InputKind }[]> {
  const path = resolve(input);
  if (!existsSync(path)) throw new ReportInputError(`${input}: no such file or directory`);
  if (!isDir(path)) {
    if (basename(path) === RESULTS_JSON) return [{ dir: resolve(path, '..'), kind: 'results' }];
    throw new ReportInputError(
      `${input}: expected a run directory, a results directory or a results.json file`,
    );
  }
  const kind = classify(path);
  if (kind) return [{ dir: path, kind }];
  const found: { dir: string; kind: InputKind }[] = [];
  for (const name of (await readdir(path)).sort()) {
    const sub = join(path, name);
    const subKind = isDir(sub) ? classify(sub) : null;
    if (subKind) found.push({ dir: sub, kind: subKind });
  }
  if (found.length === 0) {
    throw new ReportInputError(
      `${input}: not a run directory (config.json, metrics.jsonl) or a results directory (results.json), ` +
        'and none is inside it',
    );
  }
  return found;
}

/** Parses metrics.jsonl; bad lines (e.g. a line cut by a crash) become notes. */
export function parseMetricsLines(text: string, file: string, notes: string[]): StepMetrics[] {
  const byStep = new Map<number, StepMetrics>();
  let rewritten = 0;
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      notes.push(`${file}:${i + 1}: not valid JSON (line ignored)`);
      return;
    }
    const step = (record as { step?: unknown } | null)?.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      notes.push(`${file}:${i + 1}: no integer "step" (line ignored)`);
      return;
    }
    if (byStep.has(step)) rewritten++;
    byStep.set(step, record as StepMetrics);
  });
  if (rewritten > 0)
    notes.push(`${file}: ${rewritten} steps were written more than once; the last record is used`);
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

function configField(config: Record<string, unknown>, key: string): unknown {
  if (key in config) return config[key];
  const inner = config.config;
  return inner && typeof inner === 'object' ? (inner as Record<string, unknown>)[key] : undefined;
}

async function loadRun(dir: string, notes: string[]): Promise<RunData> {
  const name = basename(dir);
  let config: Record<string, unknown> | null = null;
  let schedule: ScheduleConfig | null = null;
  let totalSteps: number | null = null;
  const configPath = join(dir, 'config.json');
  if (existsSync(configPath)) {
    try {
      const parsed: unknown = JSON.parse(await readFile(configPath, 'utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        config = parsed as Record<string, unknown>;
      else notes.push(`${configPath}: not a JSON object (ignored)`);
    } catch (err) {
      notes.push(`${configPath}: ${(err as Error).message} (ignored)`);
    }
  }
  if (config) {
    const s = ScheduleSchema.safeParse(configField(config, 'schedule'));
    if (s.success) schedule = s.data;
    else notes.push(`${configPath}: no valid "schedule" (the planned L(t) is not drawn)`);
    const t = configField(config, 'totalSteps');
    if (typeof t === 'number' && Number.isInteger(t) && t > 0) totalSteps = t;
  }
  const metricsPath = join(dir, 'metrics.jsonl');
  const metrics = existsSync(metricsPath)
    ? parseMetricsLines(await readFile(metricsPath, 'utf8'), metricsPath, notes)
    : [];
  const evals = await loadRunEvals(dir, name, notes);
  return { name, dir, config, schedule, totalSteps, metrics, evals };
}

async function loadRunEvals(runDir: string, runName: string, notes: string[]): Promise<EvaluationEntry[]> {
  const evalsDir = join(runDir, 'evals');
  if (!isDir(evalsDir)) return [];
  const entries: EvaluationEntry[] = [];
  for (const name of (await readdir(evalsDir)).sort()) {
    const path = join(evalsDir, name, RESULTS_JSON);
    if (!existsSync(path)) continue;
    try {
      const file = await readEvalResults(path);
      entries.push({
        label: file.label ?? name,
        group: runName,
        kind: 'checkpoint',
        step: file.summary.step ?? file.model?.step ?? null,
        checkpointName:
          file.summary.checkpointName ?? file.model?.checkpointName ?? (name === 'base' ? 'base' : null),
        modelPath: file.model?.path ?? null,
        summary: file.summary,
        source: path,
      });
    } catch (err) {
      notes.push(`${(err as Error).message} (ignored)`);
    }
  }
  return entries.sort((a, b) => (a.step ?? -1) - (b.step ?? -1));
}

async function loadResultsDir(dir: string, notes: string[]): Promise<EvaluationEntry | null> {
  const path = join(dir, RESULTS_JSON);
  try {
    const file = await readEvalResults(path);
    return {
      label: file.label ?? basename(dir),
      group: 'evaluations',
      kind: 'results',
      step: file.summary.step,
      checkpointName: file.summary.checkpointName,
      modelPath: file.model?.path ?? null,
      summary: file.summary,
      source: path,
    };
  } catch (err) {
    notes.push(`${(err as Error).message} (ignored)`);
    return null;
  }
}

/** Makes labels unique by appending " (2)", " (3)", … to repeats, in order. */
function uniquifyLabels(entries: EvaluationEntry[]): void {
  const seen = new Map<string, number>();
  for (const e of entries) {
    const n = (seen.get(e.label) ?? 0) + 1;
    seen.set(e.label, n);
    if (n > 1) e.label = `${e.label} (${n})`;
  }
}

/** Loads every input into one model. Unusable inputs throw ReportInputError; partial data become notes. */
export async function loadReportModel(
  inputs: readonly string[],
  options: LoadOptions = {},
): Promise<ReportModel> {
  if (inputs.length === 0)
    throw new ReportInputError('no inputs: give run directories or results directories');
  const notes: string[] = [];
  const runs: RunData[] = [];
  const results: EvaluationEntry[] = [];
  const seen = new Set<string>();
  for (const input of inputs) {
    for (const { dir, kind } of await discover(input)) {
      if (seen.has(dir)) continue;
      seen.add(dir);
      if (kind === 'run') runs.push(await loadRun(dir, notes));
      else {
        const entry = await loadResultsDir(dir, notes);
        if (entry) results.push(entry);
      }
    }
  }
  // Several runs: prefix checkpoint labels with the run name so rows stay distinguishable.
  for (const run of runs) {
    for (const e of run.evals) {
      if (runs.length > 1) e.label = `${run.name} ${e.label}`;
    }
  }
  uniquifyLabels([...results, ...runs.flatMap((r) => r.evals)]);
  const partial: ReportModel = {
    title: options.title ?? defaultTitle(runs, results),
    inputs: [...inputs],
    runs,
    results,
    base: null,
    notes,
  };
  partial.base = chooseBase(partial, options.base, notes);
  return partial;
}

function defaultTitle(runs: RunData[], results: EvaluationEntry[]): string {
  if (runs.length === 1 && results.length === 0) return `siri report: ${runs[0]?.name}`;
  const parts = [];
  if (runs.length > 0) parts.push(`${runs.length} run${runs.length === 1 ? '' : 's'}`);
  if (results.length > 0) parts.push(`${results.length} evaluation${results.length === 1 ? '' : 's'}`);
  return `siri report: ${parts.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------------
// Pure derivations used by figures and tables

/**
 * Every evaluation of the report, in display order: standalone results in the order given, then each
 * run's checkpoint evaluations by step. A run without evals/ falls back to the evaluations recorded
 * in its metrics.jsonl (StepMetrics.eval).
 */
export function allEvaluations(model: ReportModel): EvaluationEntry[] {
  const out: EvaluationEntry[] = [...model.results];
  for (const run of model.runs) {
    if (run.evals.length > 0) out.push(...run.evals);
    else out.push(...trainingEvaluations(run, model.runs.length > 1));
  }
  return out;
}

/** The evaluations a run's metrics.jsonl carries (StepMetrics.eval), as entries. */
export function trainingEvaluations(run: RunData, prefixRunName = false): EvaluationEntry[] {
  const out: EvaluationEntry[] = [];
  for (const m of run.metrics) {
    if (!m.eval || !EvalSummarySchema.safeParse(m.eval).success) continue;
    const at = m.eval.checkpointName ?? `step ${m.step}`;
    out.push({
      label: prefixRunName ? `${run.name} ${at}` : at,
      group: run.name,
      kind: 'checkpoint',
      step: m.eval.step ?? m.step,
      checkpointName: m.eval.checkpointName,
      modelPath: null,
      summary: m.eval,
      source: join(run.dir, 'metrics.jsonl'),
    });
  }
  return out;
}

/**
 * The base model's evaluation (the reference of Table 1's accuracy–compression ratio):
 *   - `--base X`: the evaluation whose label is X or whose directory is X;
 *   - otherwise a run's checkpoint evaluation named "base" (evals/base/, or checkpointName "base");
 *   - otherwise the first standalone results directory given.
 */
export function chooseBase(
  model: ReportModel,
  wanted: string | undefined,
  notes: string[],
): EvaluationEntry | null {
  const all = allEvaluations(model);
  if (wanted !== undefined) {
    const dir = resolve(wanted);
    const found = all.find(
      (e) => e.label === wanted || resolve(e.source, '..') === dir || resolve(e.source) === dir,
    );
    if (!found) {
      throw new ReportInputError(
        `--base ${wanted}: no evaluation with that label or directory (labels: ${all.map((e) => e.label).join(', ')})`,
      );
    }
    return found;
  }
  const named = all.find((e) => e.checkpointName?.toLowerCase() === 'base');
  if (named) return named;
  if (model.results[0]) return model.results[0];
  if (all.length > 0)
    notes.push('no base model evaluation (give --base): the accuracy–compression ratio is left out');
  return null;
}

/** Dataset names present in every one of the evaluations (in the first one's order). */
export function commonDatasets(entries: readonly EvaluationEntry[]): string[] {
  const first = entries[0];
  if (!first) return [];
  return first.summary.datasets
    .map((d) => d.name)
    .filter((name) => entries.every((e) => e.summary.datasets.some((d) => d.name === name)));
}

/** Unweighted means of pass@1 and mean length over the named datasets of one evaluation. */
export function meanOver(
  entry: EvaluationEntry,
  datasets: readonly string[],
): { accuracy: number; length: number } {
  const picked = datasets
    .map((name) => entry.summary.datasets.find((d) => d.name === name))
    .filter((d): d is DatasetEvalResult => d !== undefined);
  const n = picked.length;
  return {
    accuracy: picked.reduce((s, d) => s + d.pass1, 0) / n,
    length: picked.reduce((s, d) => s + d.meanLength, 0) / n,
  };
}

/**
 * Keyword rates per 1K tokens over all datasets of an evaluation, for correct and incorrect samples,
 * pooled as one set would be: per dataset the split holds N·pass1 correct samples (N = problems ×
 * samples per problem; exact when every problem has the same number of samples) of mean length
 * meanLengthCorrect, so its tokens are T = N·pass1·meanLengthCorrect and its keyword count
 * rate·T/1000; the pooled rate is 1000·Σ counts / Σ T.
 */
export function pooledKeywordRates(summary: EvalSummary): {
  correct: Record<string, number>;
  incorrect: Record<string, number>;
} {
  const pool = (split: 'correct' | 'incorrect'): Record<string, number> => {
    const counts = new Map<string, number>();
    let tokens = 0;
    for (const d of summary.datasets) {
      const n = d.problems * d.samplesPerProblem;
      const share = split === 'correct' ? d.pass1 : 1 - d.pass1;
      const meanLen = split === 'correct' ? d.meanLengthCorrect : d.meanLengthIncorrect;
      const t = meanLen === null ? 0 : n * share * meanLen;
      tokens += t;
      for (const [k, rate] of Object.entries(d.keywordsPer1k[split])) {
        counts.set(k, (counts.get(k) ?? 0) + (rate * t) / 1000);
      }
    }
    return Object.fromEntries([...counts].map(([k, c]) => [k, tokens > 0 ? (1000 * c) / tokens : 0]));
  };
  return { correct: pool('correct'), incorrect: pool('incorrect') };
}
