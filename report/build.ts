// `siri report` end to end: load the inputs into the model, build the figures and Table 1, render each
// figure to SVG and PNG, and write report.html (self-contained), <figure>.svg/.png, table1.md, seeds.md
// (the across-seed comparison of a multi-seed experiment) and a report.json manifest into the output
// directory, each file atomically.
import { join } from 'node:path';
import { writeFileAtomic } from '../eval/atomic';
import { siriVersion } from '../eval/results';
import type { FileRef } from '../workflows/types';
import { buildFigures, isOmitted, type OmittedFigure } from './figures';
import { renderReportHtml, type RenderedFigure } from './html';
import { loadReportModel, type ReportModel } from './model';
import { prefixSvgIds, renderSpec } from './render';
import { seedTable, seedTableMarkdown, type SeedRunDir } from './seeds';
import { buildTable1, table1Markdown } from './table';

export interface BuildReportOptions {
  /** Output directory (created when missing). */
  out: string;
  base?: string;
  title?: string;
  /** Timestamp shown in the page (default: now). */
  now?: Date;
  /** The runs of a multi-seed experiment: adds the across-seed comparison (seeds.md and a section). */
  seedRuns?: readonly SeedRunDir[];
}

export interface BuiltFigure {
  id: string;
  title: string;
  svg: FileRef;
  png: FileRef;
  pngWidth: number;
  pngHeight: number;
}

export interface BuiltReport {
  html: FileRef;
  manifest: FileRef;
  table: FileRef | null;
  seedTable: FileRef | null;
  figures: BuiltFigure[];
  omitted: OmittedFigure[];
  model: ReportModel;
}

export async function buildReport(
  inputs: readonly string[],
  options: BuildReportOptions,
): Promise<BuiltReport> {
  const model = await loadReportModel(inputs, {
    ...(options.base !== undefined ? { base: options.base } : {}),
    ...(options.title !== undefined ? { title: options.title } : {}),
  });
  const figures = buildFigures(model);
  const omitted = figures.filter(isOmitted);
  const rendered: RenderedFigure[] = [];
  const built: BuiltFigure[] = [];
  for (const figure of figures) {
    if (isOmitted(figure)) continue;
    const image = await renderSpec(figure.spec);
    const svgFile = `${figure.id}.svg`;
    const pngFile = `${figure.id}.png`;
    const svgRef = await writeFileAtomic(join(options.out, svgFile), image.svg);
    const pngRef = await writeFileAtomic(join(options.out, pngFile), image.png);
    built.push({
      id: figure.id,
      title: figure.title,
      svg: svgRef,
      png: pngRef,
      pngWidth: image.width,
      pngHeight: image.height,
    });
    rendered.push({
      id: figure.id,
      title: figure.title,
      caption: figure.caption,
      svg: prefixSvgIds(image.svg, `f-${figure.id}`),
      svgFile,
      pngFile,
    });
  }
  const table = buildTable1(model);
  const tableRef = table
    ? await writeFileAtomic(join(options.out, 'table1.md'), table1Markdown(table))
    : null;
  const seeds = options.seedRuns && options.seedRuns.length > 0 ? seedTable(options.seedRuns) : null;
  const seedsRef = seeds
    ? await writeFileAtomic(join(options.out, 'seeds.md'), seedTableMarkdown(seeds))
    : null;
  const version = siriVersion();
  const html = renderReportHtml({
    model,
    figures: rendered,
    omitted,
    table,
    seeds,
    generatedAt: (options.now ?? new Date()).toISOString(),
    siriVersion: version,
  });
  const htmlRef = await writeFileAtomic(join(options.out, 'report.html'), html);
  const manifest = {
    format: 'siri-report',
    formatVersion: 1,
    siriVersion: version,
    title: model.title,
    inputs: model.inputs,
    html: 'report.html',
    figures: built.map((f) => ({
      id: f.id,
      title: f.title,
      svg: `${f.id}.svg`,
      png: `${f.id}.png`,
      pngWidth: f.pngWidth,
      pngHeight: f.pngHeight,
    })),
    omitted,
    table: table ? { file: 'table1.md', rows: table.rows.length, base: table.base } : null,
    seeds: seeds ? { file: 'seeds.md', rows: seeds.rows.length, reference: seeds.reference } : null,
    notes: model.notes,
  };
  const manifestRef = await writeFileAtomic(
    join(options.out, 'report.json'),
    JSON.stringify(manifest, null, 2) + '\n',
  );
  return {
    html: htmlRef,
    manifest: manifestRef,
    table: tableRef,
    seedTable: seedsRef,
    figures: built,
    omitted,
    model,
  };
}
