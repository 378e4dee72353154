// `siri report RUN_DIR|RESULTS_DIR…`: writes a self-contained HTML report (figures inline, no network)
// with PNG and SVG copies of every figure and Table 1 as markdown next to it.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from './errors';

export interface ReportFlags {
  out?: string;
  base?: string;
  title?: string;
}

/** Default output: <input>/report for one input, ./siri-report for several. */
export function defaultReportDir(inputs: readonly string[]): string {
  return inputs.length === 1 && inputs[0] !== undefined
    ? resolve(inputs[0], 'report')
    : resolve('siri-report');
}

export async function runReport(
  inputs: string[],
  flags: ReportFlags,
  log: (line: string) => void,
): Promise<void> {
  const out = resolve(flags.out ?? defaultReportDir(inputs));
  // Loaded on use: Vega and resvg take a while to import and no other command needs them.
  const { buildReport } = await import('../report/build');
  const { ReportInputError } = await import('../report/model');
  try {
    const report = await buildReport(inputs, {
      out,
      ...(flags.base !== undefined ? { base: flags.base } : {}),
      ...(flags.title !== undefined ? { title: flags.title } : {}),
    });
    log(`report: ${report.html.path}`);
    log(
      `figures: ${report.figures.length} (${report.figures.map((f) => f.id).join(', ') || 'none'}), ` +
        `SVG and PNG copies in ${out}`,
    );
    for (const o of report.omitted) log(`left out: ${o.title}: ${o.reason}`);
    if (report.table) log(`table 1: ${report.table.path}`);
    for (const note of report.model.notes) log(`note: ${note}`);
  } catch (err) {
    if (err instanceof ReportInputError) throw new CliError(err.message);
    throw err;
  }
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write an HTML report (figures, Table 1) for training runs and evaluation results')
    .argument(
      '<inputs...>',
      'run directories (config.json, metrics.jsonl, evals/) or results directories (results.json)',
    )
    .option(
      '--out <dir>',
      'output directory (default: <input>/report for one input, ./siri-report for several)',
    )
    .option(
      '--base <label|dir>',
      'base model evaluation for the accuracy–compression ratio (default: a checkpoint eval named "base", else the first results directory)',
    )
    .option('--title <text>', 'report title')
    .action(async (inputs: string[], flags: ReportFlags) => {
      await runReport(inputs, flags, (line) => console.log(line));
    });
}
