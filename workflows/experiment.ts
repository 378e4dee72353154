// siriExperiment: the toy replication as one durable workflow — a child siriTraining run per method and
// seed (same base and steps; within a seed only L(t) differs), a bounded number at a time, then the report
// with the paper's table and figures (and, with several seeds, the across-seed comparison).
// Resumable: finished children are not re-run; a crashed child resumes.
import {
  executeChild,
  proxyActivities,
  setHandler,
  defineQuery,
  ParentClosePolicy,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { RunConfig } from '../siri/config';
import { experimentMethods, experimentRuns, runConfig } from '../siri/experiment';
import { siriTraining, type TrainingOptions, type TrainingResult } from './training';

export interface ExperimentInput {
  experimentId: string;
  /** Runs go to <experimentDir>/runs/<method>, the report to <experimentDir>/report. */
  experimentDir: string;
  base: RunConfig;
  /** Children trained at the same time (CPU: 1–2). */
  concurrency: number;
  /** Method names to train (siri/experiment.ts); all six when absent. */
  methods?: string[];
  /** Training seeds, each method trained once per seed; the base config's seed when absent. */
  seeds?: number[];
  options?: Partial<TrainingOptions>;
}

export interface ExperimentProgress {
  methods: { name: string; status: 'waiting' | 'running' | 'done' | 'failed' }[];
  report: string | null;
}

export interface ExperimentResult {
  runs: Record<string, TrainingResult>;
  reportHtml: string;
  table: string | null;
  /** The across-seed comparison (Markdown file), with several seeds. */
  seedTable?: string | null;
}

export const experimentProgressQuery = defineQuery<ExperimentProgress>('experimentProgress');

const { buildExperimentReport } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 3 },
});

export async function siriExperiment(input: ExperimentInput): Promise<ExperimentResult> {
  const methods = experimentMethods(input.base, input.methods);
  const planned = experimentRuns(input.base, methods, input.seeds);
  const progress: ExperimentProgress = {
    methods: planned.map((r) => ({ name: r.name, status: 'waiting' })),
    report: null,
  };
  setHandler(experimentProgressQuery, () => progress);
  const runs: Record<string, TrainingResult> = {};
  const queue = planned.map((run, index) => ({ run, index }));
  const runsDir = `${input.experimentDir}/runs`;

  async function worker(): Promise<void> {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { run, index } = next;
      const entry = progress.methods[index];
      if (entry) entry.status = 'running';
      const config = { ...runConfig(input.base, run), runDir: runsDir };
      try {
        runs[run.name] = await executeChild(siriTraining, {
          workflowId: `siri-train-${input.experimentId}-${run.name}`,
          args: [
            {
              runId: run.name,
              runDir: `${runsDir}/${run.name}`,
              config,
              // The base model is the same for every method: evaluate it once per seed, in its first run.
              options: { ...input.options, evaluateBase: run.evaluateBase },
            },
          ],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          memo: {
            runDir: `${runsDir}/${run.name}`,
            experiment: input.experimentId,
            method: run.method.description,
            seed: run.seed,
          },
        });
        if (entry) entry.status = 'done';
      } catch (err) {
        if (entry) entry.status = 'failed';
        throw err;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, input.concurrency) }, () => worker()));

  const seeds = new Set(planned.map((r) => r.seed));
  const report = await buildExperimentReport({
    inputs: planned.map((r) => `${runsDir}/${r.name}`),
    out: `${input.experimentDir}/report`,
    title: `SIRI toy replication (${input.experimentId})`,
    ...(seeds.size > 1
      ? {
          seedRuns: planned.map((r) => ({
            method: r.method.name,
            seed: r.seed,
            runDir: `${runsDir}/${r.name}`,
          })),
        }
      : {}),
  });
  progress.report = report.html;
  return { runs, reportHtml: report.html, table: report.table, seedTable: report.seedTable };
}
