// `siri status`, `siri list`, `siri resume` and `siri cancel`: inspect and steer training runs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { metricsQuery, progressQuery } from '../workflows/messages';
import type { TrainingInput, TrainingState } from '../workflows/training';
import type { RunStateFile } from '../workflows/activity-types';
import type { StepMetrics } from '../workflows/types';
import { SiriPhase, SiriRunId, SiriScheduler, SiriStep } from '../workflows/search-attributes';
import { parseRunConfig } from '../siri/config';
import { CliError } from './errors';
import { temporalAddress } from './options';
import { connectClient, trainingWorkflowId, webUiLink } from './temporal-client';
import { checkPaths, resolveConfig, startTrainingRun } from './train';
import { followRun } from './follow';

interface AddressOption {
  address?: string;
}

async function withClient<T>(
  opts: AddressOption,
  fn: (client: Client, address: string, namespace: string) => Promise<T>,
): Promise<T> {
  const { client, address, namespace, close } = await connectClient(temporalAddress(opts.address));
  try {
    return await fn(client, address, namespace);
  } finally {
    await close();
  }
}

/** The run directory of a run, from its workflow memo. */
async function runDirOf(client: Client, runId: string): Promise<string> {
  try {
    const description = await client.workflow.getHandle(trainingWorkflowId(runId)).describe();
    const runDir = description.memo?.runDir;
    if (typeof runDir !== 'string') throw new CliError(`run ${runId} has no runDir in its memo`);
    return runDir;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new CliError(`no run with id "${runId}" (see \`siri list\`)`);
    throw err;
  }
}

function readMetrics(runDir: string): StepMetrics[] {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as StepMetrics);
}

export function registerRunCommands(program: Command): void {
  program
    .command('list')
    .description('list training runs (newest first) with their step, phase and accuracy')
    .option('--address <host:port>', 'Temporal frontend')
    .action(async (opts: AddressOption) => withClient(opts, listRuns));

  program
    .command('status [run]')
    .description('where a run stands: progress, the latest metrics and evaluations (all runs without RUN)')
    .option('--address <host:port>', 'Temporal frontend')
    .option('--follow', 'keep showing live progress')
    .action(async (runId: string | undefined, opts: AddressOption & { follow?: boolean }) =>
      withClient(opts, async (client, address, namespace) => {
        if (!runId) return listRuns(client);
        const workflowId = trainingWorkflowId(runId);
        const runDir = await runDirOf(client, runId);
        const handle = client.workflow.getHandle(workflowId);
        const description = await handle.describe();
        console.log(`run ${runId}: ${description.status.name}; files in ${runDir}`);
        console.log(`Web UI: ${webUiLink(address, namespace, workflowId)}`);
        if (description.status.name === 'RUNNING') {
          const progress = await handle.query(progressQuery);
          const recent = await handle.query(metricsQuery);
          console.log(
            `step ${progress.step}/${progress.totalSteps}, iteration ${progress.iteration + 1}, ${progress.phase}, L=${progress.maxTokens}${progress.paused ? ', PAUSED' : ''} — ${progress.activity}`,
          );
          const last = recent[recent.length - 1];
          if (last)
            console.log(
              `last step: reward ${last.rewardMean.toFixed(3)}, mean length ${last.meanLength.toFixed(1)}`,
            );
          if (progress.warnings.length) console.log(`warnings: ${progress.warnings.join(' | ')}`);
        }
        const metrics = readMetrics(runDir);
        summariseMetrics(metrics);
        if (opts.follow && description.status.name === 'RUNNING') await followRun(client, workflowId);
      }),
    );

  program
    .command('resume <run>')
    .description(
      'continue a failed, cancelled or terminated run from its last good checkpoint (a new execution)',
    )
    .option('--config <file>', 'a changed run config to continue with (e.g. a lower lr after a NaN)')
    .option('--address <host:port>', 'Temporal frontend')
    .option('--detach', 'return at once')
    .action(async (runId: string, opts: AddressOption & { config?: string; detach?: boolean }) =>
      withClient(opts, async (client, address, namespace) => {
        const workflowId = trainingWorkflowId(runId);
        const runDir = await runDirOf(client, runId);
        const description = await client.workflow.getHandle(workflowId).describe();
        if (description.status.name === 'RUNNING')
          throw new CliError(`run ${runId} is still running; nothing to resume`);
        // No state.json means the run failed before its first step finished: it starts over from the base.
        const statePath = join(runDir, 'state.json');
        const saved = existsSync(statePath)
          ? (JSON.parse(readFileSync(statePath, 'utf8')) as RunStateFile)
          : null;
        if (saved?.status === 'completed')
          throw new CliError(`run ${runId} already completed all ${saved.totalSteps} steps`);
        const config = opts.config
          ? { ...resolveConfig({ config: opts.config }), runDir: join(runDir, '..') }
          : checkPaths(parseRunConfig(JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'))));
        const state: TrainingState | undefined = saved
          ? {
              nextStep: saved.nextStep,
              checkpoint: saved.checkpoint,
              fallbacks: saved.fallbacks,
              named: saved.named,
              evalEverySteps: config.eval.everySteps,
              paused: false,
              hostQueue: null,
              warnings: [],
              recent: [],
              baseEvaluated: true,
            }
          : undefined;
        const input: TrainingInput = { runId, runDir, config, ...(state ? { state } : {}), resumed: true };
        await startTrainingRun(client, input);
        console.log(
          saved
            ? `run ${runId} resumed at step ${saved.nextStep} from ${saved.checkpoint.path}`
            : `run ${runId} resumed at step 0 from the base model (no step had finished)`,
        );
        console.log(`Web UI: ${webUiLink(address, namespace, workflowId)}`);
        if (!opts.detach) await followRun(client, workflowId);
      }),
    );

  program
    .command('cancel <run>')
    .description('cancel a run cleanly between or during steps; its last checkpoint stays intact')
    .option('--address <host:port>', 'Temporal frontend')
    .action(async (runId: string, opts: AddressOption) =>
      withClient(opts, async (client) => {
        try {
          await client.workflow.getHandle(trainingWorkflowId(runId)).cancel();
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) throw new CliError(`no running run with id "${runId}"`);
          throw err;
        }
        console.log(`cancellation requested for run ${runId}; \`siri resume ${runId}\` continues it later`);
      }),
    );
}

function summariseMetrics(metrics: StepMetrics[]): void {
  if (metrics.length === 0) return;
  const last = metrics[metrics.length - 1] as StepMetrics;
  console.log(
    `metrics: ${metrics.length} steps; last step ${last.step}: L=${last.maxTokens} ${last.phase}, reward ${last.rewardMean.toFixed(3)}, mean length ${last.meanLength.toFixed(1)}, truncated ${(100 * last.truncationRate).toFixed(1)}%, entropy ${last.entropy.toFixed(3)}`,
  );
  const evals = metrics.filter((m) => m.eval);
  for (const m of evals.slice(-5)) {
    console.log(
      `  eval after step ${m.step}${m.checkpointName ? ` (${m.checkpointName})` : ''}: pass@1 ${(m.eval?.meanPass1 ?? 0).toFixed(3)}, mean length ${(m.eval?.meanLength ?? 0).toFixed(1)}`,
    );
  }
}

/** One line per training run, newest first. */
async function listRuns(client: Client): Promise<void> {
  const rows: string[] = [];
  for await (const wf of client.workflow.list({ query: `SiriKind = 'train'` })) {
    const sa = wf.typedSearchAttributes;
    rows.push(
      [
        String(sa.get(SiriRunId) ?? wf.workflowId).padEnd(28),
        wf.status.name.padEnd(12),
        String(sa.get(SiriScheduler) ?? '-').padEnd(13),
        `step ${String(sa.get(SiriStep) ?? 0)}`.padEnd(10),
        String(sa.get(SiriPhase) ?? '-').padEnd(12),
        wf.startTime.toISOString(),
      ].join(' '),
    );
  }
  console.log(rows.length ? rows.join('\n') : 'no training runs');
}
