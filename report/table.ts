// Table 1 of the report: per method (evaluation) and benchmark, accuracy (pass@1) and mean length, their
// averages, and the paper's accuracy–compression ratio against the base model (siri/metrics.ts). In each
// column the best value is bold and the second best underlined (higher accuracy, shorter length, larger
// ΔAcc and ratio, smaller CR), comparing values as displayed. Pure: rendering to HTML/markdown included.
import { accuracyCompressionRatio, type BenchmarkScore } from '../siri/metrics';
import { allEvaluations, type EvaluationEntry, type ReportModel } from './model';

export type Better = 'higher' | 'lower';

export interface Table1Column {
  /** Header group: a benchmark name, "Average" or "vs <base>". */
  group: string;
  name: string;
  better: Better;
}

export interface Table1Cell {
  value: number | null;
  text: string;
  /** 1 = best in its column (bold), 2 = second best (underlined). */
  rank: 1 | 2 | null;
}

export interface Table1Row {
  label: string;
  isBase: boolean;
  cells: Table1Cell[];
}

export interface Table1 {
  benchmarks: string[];
  columns: Table1Column[];
  rows: Table1Row[];
  /** The base row's label, or null when there is no base (no ratio columns). */
  base: string | null;
}

export const formatAccuracy = (x: number): string => (100 * x).toFixed(1);
export const formatLength = (x: number): string => Math.round(x).toLocaleString('en-US');
const formatGain = (x: number): string => `+${(100 * x).toFixed(1)}%`;
const formatRatio = (x: number): string => x.toFixed(3);
const formatCr = (x: number): string => x.toFixed(2);

/**
 * Rank 1 for the best distinct value of a column and 2 for the second best; equal values share a rank.
 * `displayed` are the values as shown (so 43.61 and 43.64, both shown 43.6, tie).
 */
export function rankColumn(displayed: readonly (number | null)[], better: Better): (1 | 2 | null)[] {
  const distinct = [...new Set(displayed.filter((v): v is number => v !== null && Number.isFinite(v)))].sort(
    (a, b) => (better === 'higher' ? b - a : a - b),
  );
  return displayed.map((v) => {
    if (v === null) return null;
    if (v === distinct[0]) return 1;
    if (v === distinct[1]) return 2;
    return null;
  });
}

function datasetOf(entry: EvaluationEntry, name: string): { pass1: number; meanLength: number } | undefined {
  return entry.summary.datasets.find((d) => d.name === name);
}

function scoresOf(entry: EvaluationEntry): BenchmarkScore[] {
  return entry.summary.datasets.map((d) => ({
    benchmark: d.name,
    accuracy: d.pass1,
    meanLength: d.meanLength,
  }));
}

/** Benchmarks in order of first appearance (base first). */
function benchmarkOrder(entries: readonly EvaluationEntry[]): string[] {
  const names: string[] = [];
  for (const e of entries)
    for (const d of e.summary.datasets) if (!names.includes(d.name)) names.push(d.name);
  return names;
}

interface RawCell {
  value: number | null;
  format: (x: number) => string;
  /** The value as displayed, for ranking. */
  shown: number | null;
}

function cell(value: number | null | undefined, format: (x: number) => string): RawCell {
  if (value === null || value === undefined || !Number.isFinite(value))
    return { value: null, format, shown: null };
  return { value, format, shown: Number(format(value).replace(/[^0-9.\-]/g, '')) };
}

/** Table 1 of the report; null when there is no evaluation at all. */
export function buildTable1(model: ReportModel): Table1 | null {
  const evaluations = allEvaluations(model);
  if (evaluations.length === 0) return null;
  const base = model.base;
  const ordered = base ? [base, ...evaluations.filter((e) => e !== base)] : evaluations;
  const benchmarks = benchmarkOrder(ordered);
  const columns: Table1Column[] = [];
  for (const b of benchmarks) {
    columns.push({ group: b, name: 'Acc', better: 'higher' }, { group: b, name: 'Len', better: 'lower' });
  }
  columns.push(
    { group: 'Average', name: 'Acc', better: 'higher' },
    { group: 'Average', name: 'Len', better: 'lower' },
  );
  if (base) {
    const group = `vs ${base.label}`;
    columns.push(
      { group, name: 'ΔAcc', better: 'higher' },
      { group, name: 'CR', better: 'lower' },
      { group, name: 'Ratio', better: 'higher' },
    );
  }
  const raw: RawCell[][] = ordered.map((entry) => {
    const cells: RawCell[] = [];
    for (const b of benchmarks) {
      const d = datasetOf(entry, b);
      cells.push(cell(d?.pass1, formatAccuracy), cell(d?.meanLength, formatLength));
    }
    // Averages only over the full benchmark set, so rows stay comparable.
    const complete = benchmarks.every((b) => datasetOf(entry, b) !== undefined);
    const mean = (f: (d: { pass1: number; meanLength: number }) => number): number | null =>
      complete ? benchmarks.reduce((s, b) => s + f(datasetOf(entry, b)!), 0) / benchmarks.length : null;
    cells.push(
      cell(
        mean((d) => d.pass1),
        formatAccuracy,
      ),
      cell(
        mean((d) => d.meanLength),
        formatLength,
      ),
    );
    if (base) {
      if (entry === base) cells.push(cell(null, formatGain), cell(null, formatCr), cell(null, formatRatio));
      else {
        const baseNames = new Set(base.summary.datasets.map((d) => d.name));
        const shared = scoresOf(entry).filter((s) => baseNames.has(s.benchmark));
        const r = shared.length > 0 ? accuracyCompressionRatio(shared, scoresOf(base)) : null;
        cells.push(
          cell(r?.meanDeltaAcc, formatGain),
          cell(r?.meanCompressionRatio, formatCr),
          cell(r?.ratio, formatRatio),
        );
      }
    }
    return cells;
  });
  const ranks = columns.map((col, c) =>
    rankColumn(
      raw.map((r) => r[c]?.shown ?? null),
      col.better,
    ),
  );
  const rows: Table1Row[] = ordered.map((entry, r) => ({
    label: entry.label,
    isBase: entry === base,
    cells: (raw[r] ?? []).map((rc, c) => ({
      value: rc.value,
      text:
        rc.value === null
          ? entry === base && c >= columns.length - 3 && base
            ? '—'
            : '–'
          : rc.format(rc.value),
      rank: ranks[c]?.[r] ?? null,
    })),
  }));
  return { benchmarks, columns, rows, base: base?.label ?? null };
}

// ---------------------------------------------------------------------------------------------------
// Rendering

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Header groups as [name, span] in column order. */
function headerGroups(columns: readonly Table1Column[]): [string, number][] {
  const groups: [string, number][] = [];
  for (const col of columns) {
    const last = groups[groups.length - 1];
    if (last && last[0] === col.group) last[1]++;
    else groups.push([col.group, 1]);
  }
  return groups;
}

function cellHtml(c: Table1Cell): string {
  const text = escapeHtml(c.text);
  if (c.rank === 1) return `<td class="best"><strong>${text}</strong></td>`;
  if (c.rank === 2) return `<td class="second"><u>${text}</u></td>`;
  return `<td>${text}</td>`;
}

export function table1Html(table: Table1): string {
  const groups = headerGroups(table.columns)
    .map(([name, span]) => `<th colspan="${span}" scope="colgroup">${escapeHtml(name)}</th>`)
    .join('');
  const names = table.columns.map((c) => `<th scope="col">${escapeHtml(c.name)}</th>`).join('');
  const body = table.rows
    .map(
      (row) =>
        `<tr${row.isBase ? ' class="base"' : ''}><th scope="row">${escapeHtml(row.label)}${row.isBase ? ' <span class="tag">base</span>' : ''}</th>` +
        row.cells.map(cellHtml).join('') +
        '</tr>',
    )
    .join('\n');
  return (
    '<table class="table1">\n' +
    `<thead><tr><th rowspan="2" scope="col">Method</th>${groups}</tr><tr>${names}</tr></thead>\n` +
    `<tbody>\n${body}\n</tbody>\n</table>`
  );
}

export function table1Markdown(table: Table1): string {
  const head = ['Method', ...table.columns.map((c) => `${c.group} ${c.name}`)];
  const rows = table.rows.map((row) => [
    row.isBase ? `${row.label} (base)` : row.label,
    ...row.cells.map((c) => (c.rank === 1 ? `**${c.text}**` : c.rank === 2 ? `<u>${c.text}</u>` : c.text)),
  ]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n') + '\n';
}
