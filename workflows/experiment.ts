// siriExperiment: the toy replication as one durable workflow — a child siriTraining run per method
// (same base, seed and steps; only L(t) differs), a bounded number at a time, then the report with the
// paper's table and figures. Resumable: finished children are not re-run; a crashed child resumes.
import {
  executeChild,
  proxyActivities,
  setHandler,
  defineQuery,
  ParentClosePolicy,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { RunConfig } from '../siri/config';
import { experimentMethods, methodConfig } from '../siri/experiment';
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
}

export const experimentProgressQuery = defineQuery<ExperimentProgress>('experimentProgress');

const { buildExperimentReport } = proxyActivities<typeof activities>({
  startToCloseTimeout: '30 minutes',
  retry: { maximumAttempts: 3 },
});

export async function siriExperiment(input: ExperimentInput): Promise<ExperimentResult> {
  const methods = experimentMethods(input.base, input.methods);
  const progress: ExperimentProgress = {
    methods: methods.map((m) => ({ name: m.name, status: 'waiting' })),
    report: null,
  };
  setHandler(experimentProgressQuery, () => progress);
  const runs: Record<string, TrainingResult> = {};
  const queue = methods.map((method, index) => ({ method, index }));
  const runsDir = `${input.experimentDir}/runs`;

  async function worker(): Promise<void> {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { method, index } = next;
      const entry = progress.methods[index];
      if (entry) entry.status = 'running';
      const config = { ...methodConfig(input.base, method), runDir: runsDir };
      try {
        runs[method.name] = await executeChild(siriTraining, {
          workflowId: `siri-train-${input.experimentId}-${method.name}`,
          args: [
            {
              runId: method.name,
              runDir: `${runsDir}/${method.name}`,
              config,
              // The base model is the same for every method: evaluate it once, in the first run.
              options: { ...input.options, evaluateBase: index === 0 },
            },
          ],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          memo: {
            runDir: `${runsDir}/${method.name}`,
            experiment: input.experimentId,
            method: method.description,
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

  const report = await buildExperimentReport({
    inputs: methods.map((m) => `${runsDir}/${m.name}`),
    out: `${input.experimentDir}/report`,
    title: `SIRI toy replication (${input.experimentId})`,
  });
  progress.report = report.html;
  return { runs, reportHtml: report.html, table: report.table };
}
