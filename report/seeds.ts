// The across-seed table of a multi-seed experiment: each method's checkpoints (the SIRI schedulers' named
// IterK ones, the last two as SIRI-low and SIRI-high; the baselines' last evaluation) and the base, as
// mean ± standard error over the training seeds, with each one's difference to SIRI-high paired by seed
// (siri/experiment.ts), and that difference's standard error over the held-out problems, read from the
// evaluations' samples.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSamplesSync, RESULTS_JSON, SAMPLES_FILE, type StoredSample } from '../eval/results';
import { compareAcrossSeeds, type AcrossSeeds, type SeedScore } from '../siri/experiment';
import { evalName, runPaths } from '../training/run-files';
import type { EvalSummary, StepMetrics } from '../workflows/types';

export interface SeedRunDir {
  method: string;
  seed: number;
  runDir: string;
}

/** The reference every row is compared with: cosine SIRI's SIRI-high when it was trained. */
export const SEED_TABLE_REFERENCE = 'siri-cosine SIRI-high';

/**
 * The scores a run contributes: the base (if this run evaluated it), and for a SIRI run its named
 * checkpoints (IterK-Compressed / IterK-Expanded, the last two labelled SIRI-low and SIRI-high), for a
 * baseline its last evaluation ("final").
 */
export function runSeedScores(run: SeedRunDir): SeedScore[] {
  const scores: SeedScore[] = [];
  const paths = runPaths(run.runDir);
  /** One evaluation's score; `dir` is its directory under evals/ (for the samples). */
  const score = (label: string, { summary, dir }: { summary: EvalSummary; dir: string }): SeedScore => {
    const rates = problemPassRates(join(paths.evalDir(dir), SAMPLES_FILE));
    return {
      label,
      seed: run.seed,
      accuracy: summary.meanPass1,
      meanLength: summary.meanLength,
      ...(rates ? { problemPassRates: rates } : {}),
    };
  };
  const basePath = join(paths.evalDir('base'), RESULTS_JSON);
  if (existsSync(basePath)) {
    const base = JSON.parse(readFileSync(basePath, 'utf8')) as { summary: EvalSummary };
    scores.push(score('Base', { summary: base.summary, dir: 'base' }));
  }
  const metricsPath = paths.metrics;
  if (!existsSync(metricsPath)) return scores;
  const evals = readFileSync(metricsPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .flatMap((line) => {
      const m = JSON.parse(line) as StepMetrics;
      return m.eval
        ? [{ name: m.checkpointName ?? null, dir: evalName(m.checkpointName, m.step), summary: m.eval }]
        : [];
    });
  const lastNamed = (suffix: string) => evals.filter((e) => e.name?.endsWith(suffix)).at(-1);
  const compressed = lastNamed('-Compressed');
  const expanded = lastNamed('-Expanded');
  if (compressed && expanded) {
    // The earlier IterK checkpoints too (the paper's claim that each compression gains), then the last two.
    for (const e of evals) {
      if (e.name && e !== compressed && e !== expanded) scores.push(score(`${run.method} ${e.name}`, e));
    }
    scores.push(score(`${run.method} SIRI-low`, compressed));
    scores.push(score(`${run.method} SIRI-high`, expanded));
  } else {
    const last = evals.at(-1);
    if (last) scores.push(score(`${run.method} final`, last));
  }
  return scores;
}

/**
 * Per dataset, each problem's pass rate (its samples' mean correctness) indexed by problemIndex, from one
 * evaluation's samples.jsonl.gz; null when the file is missing or a problem of a dataset has no sample.
 */
export function problemPassRates(samplesPath: string): Record<string, number[]> | null {
  if (!existsSync(samplesPath)) return null;
  const tallies = new Map<string, { correct: number; total: number }[]>();
  for (const sample of readSamplesSync<StoredSample>(samplesPath)) {
    const perProblem = tallies.get(sample.dataset) ?? [];
    const tally = (perProblem[sample.problemIndex] ??= { correct: 0, total: 0 });
    tally.total += 1;
    if (sample.correct) tally.correct += 1;
    tallies.set(sample.dataset, perProblem);
  }
  const rates: Record<string, number[]> = {};
  for (const [dataset, perProblem] of tallies) {
    const values = Array.from(perProblem, (t) => (t ? t.correct / t.total : null));
    if (values.some((v) => v === null)) return null;
    rates[dataset] = values as number[];
  }
  return rates;
}

/** Every run's scores summarized across seeds, compared with SIRI-high (or the first trained row). */
export function seedTable(runs: readonly SeedRunDir[]): SeedTable {
  const scores = runs.flatMap(runSeedScores);
  const labels = [...new Set(scores.map((s) => s.label))];
  const reference = labels.includes(SEED_TABLE_REFERENCE)
    ? SEED_TABLE_REFERENCE
    : (labels.find((l) => l !== 'Base') ?? 'Base');
  return { reference, rows: compareAcrossSeeds(scores, reference) };
}

export interface SeedTable {
  reference: string;
  rows: AcrossSeeds[];
}

/**
 * The header and the formatted cells: pass@1 mean ± SE, mean length, difference to the reference ± SE over
 * seeds and its z, the difference's SE over the held-out problems, and z against both SEs combined.
 */
export function seedTableCells(table: SeedTable): { header: string[]; rows: string[][] } {
  // Rounding decides the sign: a difference that prints as zero is "+0.00", not "-0.00".
  const unsignedZero = (text: string): string => (/^-0\.0+$/.test(text) ? text.slice(1) : text);
  const pct = (x: number): string => unsignedZero((100 * x).toFixed(2));
  const header = [
    'checkpoint',
    'seeds',
    'pass@1 % (± SE over seeds)',
    'mean length',
    `− ${table.reference} (± SE, paired by seed)`,
    'z',
    'SE over problems',
    'z (both SEs)',
  ];
  const rows = table.rows.map((row) => {
    const se = row.accuracyStandardError;
    const accuracy = se === null ? pct(row.meanAccuracy) : `${pct(row.meanAccuracy)} ± ${pct(se)}`;
    const versus = row.versusReference;
    let delta = '–';
    let z = '–';
    let problemSe = '–';
    let zBoth = '–';
    if (versus) {
      const difference = pct(versus.difference);
      delta = difference.startsWith('-') ? difference : `+${difference}`;
      if (versus.standardError !== null) {
        delta += ` ± ${pct(versus.standardError)}`;
        if (versus.standardError > 0) {
          z = unsignedZero((versus.difference / versus.standardError).toFixed(1));
        }
      }
      if (versus.problemStandardError !== null) {
        problemSe = pct(versus.problemStandardError);
        // Conservative: the two SEs overlap in the evaluation noise, which the sum counts twice.
        const both = Math.hypot(versus.standardError ?? 0, versus.problemStandardError);
        if (both > 0) zBoth = unsignedZero((versus.difference / both).toFixed(1));
      }
    }
    return [row.label, row.seeds.join(', '), accuracy, row.meanLength.toFixed(1), delta, z, problemSe, zBoth];
  });
  return { header, rows };
}

/** The table as Markdown (seeds.md and the console). */
export function seedTableMarkdown(table: SeedTable): string {
  const { header, rows } = seedTableCells(table);
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}
