// `siri demo` (what `npm run demo` runs): the main job on the embedded default. It starts the embedded
// Temporal server (or uses the one already answering on --port) and a worker, trains SIRI (cosine) on
// the toy world from the committed base checkpoint with live progress and the Web UI link, evaluates base
// vs SIRI-low (Iter3-Compressed) vs SIRI-high (Iter3-Expanded), prints the table and writes the report.
// A second demo while one runs follows it; after one finished it shows its results (--fresh trains anew).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { WorkflowNotFoundError } from '@temporalio/client';
import { presetConfig, type RunConfig } from '../siri/config';
import { describeSchedule } from '../siri/schedule';
import type { TrainingInput } from '../workflows/training';
import { addEmbeddedServerOptions, embeddedOptionsFrom, withEmbeddedTemporal } from './embedded';
import { CliError } from './errors';
import { followRun } from './follow';

import { formatTable, runEvaluations } from './summary-table';
import { absolutePaths, checkPaths, startTrainingRun } from './train';
import { trainingWorkflowId, webUiLink } from './temporal-client';

const DEMO_RUN = 'demo';

export function registerDemoCommand(program: Command): void {
  addEmbeddedServerOptions(
    program
      .command('demo')
      .description('train SIRI on the toy world end to end (server, worker, run, evaluation, report)')
      .option('--runs <dir>', 'where the demo run is written', 'runs')
      .option('--fresh', 'train again even if a finished demo run exists (the old one is renamed)'),
  ).action(async (opts: { port: string; uiPort: string; db: string; runs: string; fresh?: boolean }) => {
    const embedded = embeddedOptionsFrom(opts);
    await withEmbeddedTemporal(embedded, async ({ address, client, startWorker }) => {
      const workflowId = trainingWorkflowId(DEMO_RUN);
      const status = await client.workflow
        .getHandle(workflowId)
        .describe()
        .then((d) => d.status.name)
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return null;
          throw err;
        });
      const runsDir = resolve(opts.runs);
      const runDir = join(runsDir, DEMO_RUN);
      if (status === 'RUNNING') {
        console.log(`a demo run is already in progress: following it (Ctrl-C detaches; the run goes on)`);
        console.log(`Web UI: ${webUiLink(address, 'default', workflowId)}`);
        // Detached (Ctrl-C) before the run finished: its results are not there yet, the first demo shows them.
        if (!(await followRun(client, workflowId))) return;
      } else if (status === 'COMPLETED' && existsSync(join(runDir, 'state.json')) && !opts.fresh) {
        console.log(
          `found a finished demo run in ${runDir}; showing its results (use --fresh to train again)`,
        );
      } else {
        if (existsSync(runDir)) {
          const { renameSync } = await import('node:fs');
          const aside = `${runDir}.old-${Date.now()}`;
          renameSync(runDir, aside);
          console.log(`moved the previous demo run aside to ${aside}`);
        }
        const config = checkPaths(absolutePaths(demoConfig(runsDir)));
        await startWorker();
        const input: TrainingInput = { runId: DEMO_RUN, runDir, config };
        await startTrainingRun(client, input);
        console.log(
          `training SIRI on the toy world: ${describeSchedule(config.schedule)}, ${config.totalSteps} steps`,
        );
        console.log(`Web UI: ${webUiLink(address, 'default', workflowId)}`);
        const result = await followRun(client, workflowId);
        if (!result) return;
      }
      await showResults(runDir);
    });
  });
}

/**
 * The `toy` preset, evaluated only where the demo looks: its named checkpoints (base, IterK-Compressed and
 * IterK-Expanded; every 20 steps lands on an Expanded one). The preset's 10-step evaluations add steps 9, 29
 * and 49, one step before a Compressed checkpoint: about 1.5 minutes of the demo's 15 on 2 cores for three
 * points the table does not show. Evaluation seeds depend on the run seed and the problem, not on which
 * steps are evaluated, so the named checkpoints' figures are those of the preset run.
 */
function demoConfig(runsDir: string): RunConfig {
  const preset = presetConfig('toy');
  return { ...preset, runDir: runsDir, eval: { ...preset.eval, everySteps: 20 } };
}

async function showResults(runDir: string): Promise<void> {
  if (!existsSync(join(runDir, 'metrics.jsonl'))) throw new CliError(`no metrics in ${runDir}`);
  const { base, rows } = runEvaluations(runDir);
  const picked = rows.filter((r) => /Iter\d+-(Compressed|Expanded)/.test(r.label));
  const last = (suffix: string): typeof rows => picked.filter((r) => r.label.endsWith(suffix)).slice(-1);
  const relabel = (label: string) => (r: (typeof rows)[number]) => ({ ...r, label: `${label} (${r.label})` });
  const table = [
    ...last('Compressed').map(relabel('SIRI-low')),
    ...last('Expanded').map(relabel('SIRI-high')),
  ];
  console.log(
    '\nBase vs SIRI-low vs SIRI-high on the held-out toy problems (ΔAcc, CR, ratio as in the paper):',
  );
  console.log(formatTable(base, table));
  console.log('\nEvery checkpoint evaluated:');
  console.log(formatTable(base, picked));
  const { buildReport } = await import('../report/build');
  const report = await buildReport([runDir], {
    out: join(runDir, 'report'),
    title: 'siri demo: SIRI (cosine) on the toy world',
  });
  console.log(`\nreport with figures: ${report.html.path}`);
}
