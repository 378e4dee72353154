// `siri experiment toy`: the toy replication of the paper — SIRI (cosine, stair, stair-cosine), DAPO at
// lMax, DeepScaleR-style stages and pure truncation at lMin, all from the same base, seed and steps —
// as one resumable workflow, then Table 1 and the figures. Re-running with the same --id resumes it.
// --preset / --config choose the world (default: the `toy` preset), --methods a subset of the six,
// --seeds several training seeds per method (then an across-seed table compares them with SIRI-high).
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { presetConfig, type RunConfig } from '../siri/config';
import {
  experimentMethods,
  experimentRuns,
  type ExperimentMethod,
  type ExperimentRun,
} from '../siri/experiment';
import { seedTable, seedTableMarkdown } from '../report/seeds';
import { SHARED_TASK_QUEUE } from '../workflows/constants';
import { SiriKind, SiriRunId } from '../workflows/search-attributes';
import {
  experimentProgressQuery,
  type ExperimentInput,
  type ExperimentResult,
} from '../workflows/experiment';
import { CliError } from './errors';
import { addEmbeddedServerOptions, embeddedOptionsFrom, withEmbeddedTemporal } from './embedded';
import { parsePositiveInt } from './options';
import { formatTable, runEvaluations } from './summary-table';
import { resolveConfig } from './train';
import { webUiLink } from './temporal-client';

export function registerExperimentCommand(program: Command): void {
  addEmbeddedServerOptions(
    program
      .command('experiment <name>')
      .description('run a replication experiment (name: toy): every method, evaluation, Table 1 and figures')
      .option('--id <id>', 'experiment id; the same id resumes it', 'toy')
      .option('--dir <dir>', 'experiments directory', 'experiments')
      .option('--concurrency <n>', 'methods trained at the same time', '1')
      .option('--steps <n>', 'override the number of training steps (default: the preset)')
      .option('--preset <name>', 'the base run config: a preset (default: toy)')
      .option('--config <file>', 'the base run config: a YAML/JSON file (instead of --preset)')
      .option(
        '--methods <list>',
        `comma-separated methods to train (default: all six: ${experimentMethods(presetConfig('toy'))
          .map((m) => m.name)
          .join(', ')})`,
      )
      .option(
        '--seeds <list>',
        'comma-separated training seeds, each method trained once per seed (default: the config seed)',
      ),
  ).action(
    async (
      name: string,
      opts: {
        id: string;
        dir: string;
        concurrency: string;
        steps?: string;
        preset?: string;
        config?: string;
        methods?: string;
        seeds?: string;
        port: string;
        uiPort: string;
        db: string;
      },
    ) => {
      if (name !== 'toy') throw new CliError(`unknown experiment "${name}" (available: toy)`);
      const base = resolveConfig(opts.config ? opts : { preset: opts.preset ?? 'toy' });
      const config = opts.steps ? { ...base, totalSteps: parsePositiveInt('--steps', opts.steps) } : base;
      const chosen = opts.methods?.split(',').map((m) => m.trim());
      const methods = chosenMethods(config, chosen);
      const seeds = opts.seeds === undefined ? undefined : parseSeeds(opts.seeds);
      const planned = plannedRuns(config, methods, seeds);
      const experimentDir = resolve(opts.dir, opts.id);
      const input: ExperimentInput = {
        experimentId: opts.id,
        experimentDir,
        base: config,
        concurrency: parsePositiveInt('--concurrency', opts.concurrency),
        ...(chosen ? { methods: chosen } : {}),
        ...(seeds ? { seeds } : {}),
      };
      const embedded = embeddedOptionsFrom(opts);
      await withEmbeddedTemporal(embedded, async ({ address, client, startWorker, workerStopped }) => {
        await startWorker();
        const workflowId = `siri-experiment-${opts.id}`;
        try {
          await client.workflow.start('siriExperiment', {
            taskQueue: SHARED_TASK_QUEUE,
            workflowId,
            args: [input],
            memo: { experimentDir },
            typedSearchAttributes: [
              { key: SiriKind, value: 'experiment' },
              { key: SiriRunId, value: opts.id },
            ],
          });
          console.log(`experiment ${opts.id} started: ${planned.map((r) => r.name).join(', ')}`);
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          console.log(`experiment ${opts.id} is already running: following it`);
        }
        console.log(`Web UI: ${webUiLink(address, 'default', workflowId)}`);
        const handle = client.workflow.getHandle(workflowId);
        const result = handle.result() as Promise<ExperimentResult>;
        let done = false;
        void result.finally(() => (done = true)).catch(() => undefined);
        // Ctrl-C (or SIGTERM) shuts the hosted worker down; nothing would train any more, so stop following.
        let stopped = false;
        const stop = workerStopped().then(() => (stopped = true));
        let last = '';
        while (!done && !stopped) {
          const p = await handle.query(experimentProgressQuery).catch(() => null);
          const line = p ? p.methods.map((m) => `${m.name}: ${m.status}`).join(' | ') : '';
          if (line && line !== last) console.log(line);
          last = line || last;
          await Promise.race([result.catch(() => undefined), stop, new Promise((r) => setTimeout(r, 2000))]);
        }
        if (!done) {
          console.log(
            `stopped: the worker was shut down before experiment ${opts.id} finished. Its state is kept ` +
              `(the workflow on the Temporal server at ${address}, the runs under ${experimentDir}); run the ` +
              'same command again to go on from the last finished step.',
          );
          process.exitCode = 130;
          return;
        }
        const final = await result;
        const runsDir = join(experimentDir, 'runs');
        const first = runEvaluations(join(runsDir, planned[0]?.name ?? ''));
        const rows = planned.flatMap((r) => runEvaluations(join(runsDir, r.name), `${r.name} `).rows);
        console.log(formatTable(first.base, rows));
        if (new Set(planned.map((r) => r.seed)).size > 1) {
          const runs = planned.map((r) => ({
            method: r.method.name,
            seed: r.seed,
            runDir: join(runsDir, r.name),
          }));
          console.log(`\nacross seeds:\n${seedTableMarkdown(seedTable(runs))}`);
        }
        console.log(`report: ${final.reportHtml}`);
      });
    },
  );
}

/** --seeds 0,1,2: distinct non-negative integers; anything else is a usage error naming the value. */
function parseSeeds(list: string): number[] {
  const seeds = list.split(',').map((s) => s.trim());
  const bad = seeds.find((s) => !/^\d+$/.test(s));
  if (bad !== undefined) {
    throw new CliError(`--seeds: "${bad}" is not a non-negative integer (example: --seeds 0,1,2)`);
  }
  return seeds.map(Number);
}

/** The runs the experiment will train; a repeated seed is a usage error. */
function plannedRuns(
  config: RunConfig,
  methods: ExperimentMethod[],
  seeds: number[] | undefined,
): ExperimentRun[] {
  try {
    return experimentRuns(config, methods, seeds);
  } catch (err) {
    throw new CliError(`--seeds: ${(err as Error).message}`);
  }
}

/** The experiment's methods, or those --methods names; a bad choice is a usage error naming the valid ones. */
function chosenMethods(config: RunConfig, chosen: string[] | undefined): ExperimentMethod[] {
  try {
    return experimentMethods(config, chosen);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}
