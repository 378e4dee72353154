// The report page: one self-contained HTML file (inline CSS, inline SVG figures, no scripts, no network:
// a Content-Security-Policy forbids loading anything), with links to the PNG and SVG copies written next
// to it. Pure: takes the model and the already-rendered figures.
import { describeSchedule } from '../siri/schedule';
import type { ReportModel, RunData } from './model';
import type { OmittedFigure } from './figures';
import { seedTableCells, type SeedTable } from './seeds';
import { escapeHtml, formatAccuracy, formatLength, table1Html, type Table1 } from './table';

export interface RenderedFigure {
  id: string;
  title: string;
  caption: string;
  /** Inline SVG (ids already made unique). */
  svg: string;
  svgFile: string;
  pngFile: string;
}

export interface ReportPage {
  model: ReportModel;
  figures: RenderedFigure[];
  omitted: OmittedFigure[];
  table: Table1 | null;
  /** The across-seed comparison of a multi-seed experiment. */
  seeds?: SeedTable | null;
  generatedAt: string;
  siriVersion: string;
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 0; color: #111827; background: #f9fafb; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
.meta { color: #6b7280; font-size: 13px; margin: 0 0 16px; }
.meta code { font-size: 12px; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e5e7eb; text-align: right; white-space: nowrap; }
th[scope="row"], .runs td:first-child { text-align: left; }
.runs th, .runs td { white-space: normal; }
.runs td:first-child { white-space: nowrap; }
.runs td:nth-child(4) { text-align: left; }
thead th { background: #f3f4f6; text-align: center; }
tr.base { background: #fafaf0; }
.tag { font-size: 10px; color: #92400e; background: #fef3c7; border-radius: 3px; padding: 0 4px; margin-left: 4px; }
.table-wrap { overflow-x: auto; }
figure.report-figure { margin: 24px 0; padding: 12px; border: 1px solid #e5e7eb; border-radius: 6px; }
figure.report-figure svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: #374151; margin-top: 8px; line-height: 1.45; }
figcaption a { color: #2563eb; }
.omitted li, .notes li { font-size: 13px; margin: 4px 0; }
.notes { color: #6b7280; }
`;

function runRows(runs: readonly RunData[]): string {
  const rows = runs.map((run) => {
    const last = run.metrics[run.metrics.length - 1];
    const cells = [
      escapeHtml(run.name),
      String(run.metrics.length),
      last ? String(last.step) : '–',
      run.schedule ? escapeHtml(describeSchedule(run.schedule)) : '–',
      last && typeof last.accuracy === 'number' ? formatAccuracy(last.accuracy) : '–',
      last && typeof last.meanLength === 'number' ? formatLength(last.meanLength) : '–',
      String(run.evals.length),
    ];
    return `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
  });
  return (
    '<table class="runs"><thead><tr><th>Run</th><th>Steps logged</th><th>Last step</th><th>Schedule</th>' +
    '<th>Last accuracy (%)</th><th>Last mean length</th><th>Checkpoint evals</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function figureHtml(f: RenderedFigure, n: number): string {
  return (
    `<figure class="report-figure" id="fig-${escapeHtml(f.id)}" data-figure="${escapeHtml(f.id)}">\n${f.svg}\n` +
    `<figcaption><strong>Figure ${n}. ${escapeHtml(f.title)}.</strong> ${escapeHtml(f.caption)} ` +
    `<a href="${escapeHtml(f.svgFile)}">SVG</a> · <a href="${escapeHtml(f.pngFile)}">PNG</a></figcaption>\n</figure>`
  );
}

/** The across-seed table: each final checkpoint over the training seeds, against the reference. */
function seedSection(seeds: SeedTable): string[] {
  const { header, rows } = seedTableCells(seeds);
  const cells = (row: string[], tag: 'th' | 'td'): string =>
    row
      .map((c, i) =>
        i === 0 && tag === 'td'
          ? `<th scope="row">${escapeHtml(c)}</th>`
          : `<${tag}>${escapeHtml(c)}</${tag}>`,
      )
      .join('');
  return [
    '<h2 id="seeds">Across training seeds</h2>',
    '<p class="meta">Each final checkpoint (SIRI-low / SIRI-high: the last IterK-Compressed / IterK-Expanded; ' +
      'a baseline: its last evaluation) as pass@1 mean ± standard error over the training seeds, and its ' +
      `difference to ${escapeHtml(seeds.reference)} paired by seed (mean ± SE of the per-seed differences). ` +
      'Every seed is evaluated on the same held-out problems, so the SE over seeds cannot see the choice of ' +
      'problems; "SE over problems" is the same difference\'s SE over the problems (each problem\'s difference ' +
      'averaged over the seeds), and the last z divides by both SEs combined (√(SE₁² + SE₂²), conservative).</p>',
    `<div class="table-wrap"><table><thead><tr>${cells(header, 'th')}</tr></thead><tbody>` +
      rows.map((r) => `<tr>${cells(r, 'td')}</tr>`).join('') +
      '</tbody></table></div>',
  ];
}

export function renderReportHtml(page: ReportPage): string {
  const { model, figures, omitted, table } = page;
  const parts: string[] = [];
  parts.push(
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched: styles are inline, images are inline SVG or data: URIs, there are no scripts.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(model.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body><main>',
    `<h1>${escapeHtml(model.title)}</h1>`,
    `<p class="meta">Generated ${escapeHtml(page.generatedAt)} by siri ${escapeHtml(page.siriVersion)} from ` +
      model.inputs.map((i) => `<code>${escapeHtml(i)}</code>`).join(', ') +
      '.</p>',
  );
  if (model.runs.length > 0)
    parts.push('<h2>Training runs</h2>', `<div class="table-wrap">${runRows(model.runs)}</div>`);
  parts.push('<h2 id="table1">Table 1: accuracy, length and accuracy–compression ratio</h2>');
  if (table) {
    parts.push(
      '<p class="meta">Accuracy is pass@1 (%), length the mean response length in tokens. ' +
        (table.base
          ? `Against the base row (${escapeHtml(table.base)}): ΔAcc = mean over benchmarks of max(acc/acc₀ − 1, 0), ` +
            'CR = mean of len/len₀, Ratio = ΔAcc / CR. '
          : '') +
        'In each column the best value is <strong>bold</strong> and the second best <u>underlined</u>.</p>',
      `<div class="table-wrap">${table1Html(table)}</div>`,
    );
  } else {
    parts.push('<p class="meta">No evaluations among the inputs, so there is no table.</p>');
  }
  if (page.seeds) parts.push(...seedSection(page.seeds));
  parts.push('<h2>Figures</h2>');
  figures.forEach((f, i) => parts.push(figureHtml(f, i + 1)));
  if (omitted.length > 0) {
    parts.push(
      '<h2>Figures left out</h2>',
      '<ul class="omitted">' +
        omitted
          .map((o) => `<li><strong>${escapeHtml(o.title)}</strong>: ${escapeHtml(o.reason)}.</li>`)
          .join('') +
        '</ul>',
    );
  }
  if (model.notes.length > 0) {
    parts.push(
      '<h2>Notes on the inputs</h2>',
      '<ul class="notes">' + model.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('') + '</ul>',
    );
  }
  parts.push('</main></body>', '</html>', '');
  return parts.join('\n');
}
