/**
 * buildExperimentReport: renders the HTML report (figures as SVG + PNG, Table 1) for a set of run or
 * results directories (report/build.ts). Inputs: {inputs, out, title}. Output: paths of report.html and
 * table1.md. Idempotent: rewrites the same files atomically. Shared queue; no heartbeat (seconds).
 */
export interface ReportInput {
  inputs: string[];
  out: string;
  title: string;
  base?: string;
}

export async function buildExperimentReport(
  input: ReportInput,
): Promise<{ html: string; table: string | null }> {
  const { buildReport } = await import('../report/build');
  const built = await buildReport(input.inputs, {
    out: input.out,
    title: input.title,
    ...(input.base ? { base: input.base } : {}),
  });
  return { html: built.html.path, table: built.table?.path ?? null };
}
