// The console version of the paper's Table 1 for a run or an experiment: accuracy (pass@1), mean length,
// ΔAcc, CR and the accuracy–compression ratio of each evaluated checkpoint against the base model.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accuracyCompressionRatio, type BenchmarkScore } from '../siri/metrics';
import type { EvalSummary, StepMetrics } from '../workflows/types';

export interface TableRow {
  label: string;
  summary: EvalSummary;
}

function scores(summary: EvalSummary): BenchmarkScore[] {
  return summary.datasets.map((d) => ({ benchmark: d.name, accuracy: d.pass1, meanLength: d.meanLength }));
}

/** The base evaluation and every checkpoint evaluation of a run directory, in step order. */
export function runEvaluations(runDir: string, prefix = ''): { base: TableRow | null; rows: TableRow[] } {
  const basePath = join(runDir, 'evals', 'base', 'results.json');
  const base = existsSync(basePath)
    ? {
        label: 'Base',
        summary: (JSON.parse(readFileSync(basePath, 'utf8')) as { summary: EvalSummary }).summary,
      }
    : null;
  const metricsPath = join(runDir, 'metrics.jsonl');
  const rows: TableRow[] = [];
  if (existsSync(metricsPath)) {
    for (const line of readFileSync(metricsPath, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const m = JSON.parse(line) as StepMetrics;
      if (m.eval)
        rows.push({ label: `${prefix}${m.checkpointName ?? `step ${m.step + 1}`}`, summary: m.eval });
    }
  }
  return { base, rows };
}

/** A fixed-width table: label, accuracy, length, ΔAcc, CR, ratio (vs `base`). */
export function formatTable(base: TableRow | null, rows: readonly TableRow[]): string {
  const header = ['checkpoint', 'pass@1', 'mean len', 'ΔAcc', 'CR', 'ratio'];
  const lines = [header];
  const fmtPct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  for (const row of base ? [base, ...rows] : rows) {
    let delta = '–';
    let cr = '–';
    let ratio = '–';
    if (base && row !== base && base.summary.meanPass1 > 0) {
      const acr = accuracyCompressionRatio(scores(row.summary), scores(base.summary));
      delta = fmtPct(acr.meanRelativeGain);
      cr = acr.meanCompressionRatio.toFixed(3);
      ratio = acr.ratio.toFixed(3);
    }
    lines.push([
      row.label,
      fmtPct(row.summary.meanPass1),
      row.summary.meanLength.toFixed(1),
      delta,
      cr,
      ratio,
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines
    .map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}
