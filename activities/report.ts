/**
 * buildExperimentReport: renders the HTML report (figures as SVG + PNG, Table 1) for a set of run or
 * results directories (report/build.ts), and with `seedRuns` (a multi-seed experiment) seeds.md, the
 * across-seed comparison (report/seeds.ts). Inputs: {inputs, out, title, seedRuns?}. Output: paths of
 * report.html, table1.md and seeds.md. Idempotent: rewrites the same files atomically. Shared queue; no
 * heartbeat (seconds).
 */
import type { SeedRunDir } from '../report/seeds';

export interface ReportInput {
  inputs: string[];
  out: string;
  title: string;
  base?: string;
  seedRuns?: SeedRunDir[];
}

export async function buildExperimentReport(
  input: ReportInput,
): Promise<{ html: string; table: string | null; seedTable: string | null }> {
  const { buildReport } = await import('../report/build');
  const built = await buildReport(input.inputs, {
    out: input.out,
    title: input.title,
    ...(input.base ? { base: input.base } : {}),
    ...(input.seedRuns ? { seedRuns: input.seedRuns } : {}),
  });
  return {
    html: built.html.path,
    table: built.table?.path ?? null,
    seedTable: built.seedTable?.path ?? null,
  };
}
