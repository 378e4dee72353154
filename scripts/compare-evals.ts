// Paired comparison of evaluations of several models on the same problems: pass@1 of each, and each one's
// difference to the first with the paired standard error over problems (siri/metrics.ts pairedPassAt1)
// and its z = difference / SE. Reads every samples.jsonl.gz under each results directory (`siri eval --out`
// or a run's evals/<checkpoint>). Used for docs/experiment-toy.md's check of "SIRI-high is the most accurate".
// Usage: npx tsx scripts/compare-evals.ts LABEL=DIR LABEL=DIR [...] [--json FILE]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readSamplesSync, samplesFilesUnder } from '../eval/results';
import { pairedPassAt1, type PairedPassAt1 } from '../siri/metrics';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'string' } },
});
if (positionals.length < 2) {
  throw new Error('usage: npx tsx scripts/compare-evals.ts LABEL=DIR LABEL=DIR [...] [--json FILE]');
}

interface SampleLine {
  dataset: string;
  problemId: string;
  correct: boolean;
}

/** Per problem (dataset/problemId), the correctness of each sample. */
function correctnessByProblem(dir: string): Map<string, boolean[]> {
  const files = samplesFilesUnder(dir);
  if (files.length === 0) throw new Error(`${dir}: no samples.jsonl.gz under it`);
  const byProblem = new Map<string, boolean[]>();
  for (const file of files) {
    for (const s of readSamplesSync<SampleLine>(file)) {
      const key = `${s.dataset}/${s.problemId}`;
      const list = byProblem.get(key) ?? [];
      list.push(s.correct);
      byProblem.set(key, list);
    }
  }
  return byProblem;
}

const models = positionals.map((arg) => {
  const at = arg.indexOf('=');
  if (at <= 0) throw new Error(`${arg}: expected LABEL=DIR`);
  return { label: arg.slice(0, at), byProblem: correctnessByProblem(arg.slice(at + 1)) };
});
const [reference, ...others] = models;
if (!reference) throw new Error('no models');

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
const rows: (PairedPassAt1 & { label: string; against: string })[] = others.map((m) => ({
  label: m.label,
  against: reference.label,
  ...pairedPassAt1(m.byProblem, reference.byProblem),
}));
const samplesOf = (m: Map<string, boolean[]>): number => [...m.values()].reduce((s, l) => s + l.length, 0);
console.log(
  `${reference.label}: pass@1 ${pct(rows[0]?.passAt1B ?? 0)} (${reference.byProblem.size} problems, ${samplesOf(reference.byProblem)} samples)`,
);
const width = Math.max(...models.map((m) => m.label.length));
console.log(`${'model'.padEnd(width)}  pass@1    − ${reference.label}    paired SE      z`);
for (const r of rows) {
  const z = r.standardError > 0 ? r.difference / r.standardError : Infinity;
  console.log(
    `${r.label.padEnd(width)}  ${pct(r.passAt1A).padStart(7)}  ${(r.difference >= 0 ? '+' : '') + (100 * r.difference).toFixed(2)} pts  ${(100 * r.standardError).toFixed(2).padStart(8)} pts  ${z.toFixed(2).padStart(5)}`,
  );
}
if (args.json) writeFileSync(args.json, JSON.stringify(rows, null, 2) + '\n');
