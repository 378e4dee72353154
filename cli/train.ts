// `siri train`: validates a run config (file or preset) and the paths it names, starts the durable
// siriTraining workflow, prints the Web UI link, and follows progress until done or Ctrl-C (which only
// detaches: the run goes on).
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { isPresetName, parseRunConfig, presetNames, PRESETS, type RunConfig } from '../siri/config';
import { describeSchedule } from '../siri/schedule';
import { SiriKind, SiriRunId, SiriScheduler } from '../workflows/search-attributes';
import { SHARED_TASK_QUEUE } from '../workflows/constants';
import type { TrainingInput, TrainingOptions } from '../workflows/training';
import { loadRunConfigFile } from './config-file';
import { CliError } from './errors';
import { temporalAddress } from './options';
import { connectClient, trainingWorkflowId, webUiLink } from './temporal-client';
import { followRun } from './follow';

export interface TrainCommandOptions {
  config?: string;
  preset?: string;
  runId?: string;
  detach?: boolean;
  address?: string;
  stepsPerExecution?: string;
  heartbeatTimeout?: string;
  hostStartTimeout?: string;
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('start a SIRI training run (validated first), print its Web UI link and follow its progress')
    .option('--config <file>', 'run config (YAML or JSON; may start from `preset: NAME`)')
    .option('--preset <name>', `a preset run config (${presetNames.join(', ')})`)
    .option(
      '--run-id <id>',
      'run id (default: <schedule kind>-<date>-<time>); the run lives in <runDir>/<id>',
    )
    .option('--detach', 'start the run and return at once')
    .option('--address <host:port>', 'Temporal frontend (default: $TEMPORAL_ADDRESS or localhost:7233)')
    .option('--steps-per-execution <n>', 'continue-as-new cadence (steps per workflow execution)')
    .option('--heartbeat-timeout <seconds>', 'a model activity silent this long means its worker died')
    .option(
      '--host-start-timeout <seconds>',
      'a model activity not picked up this long means its worker is gone',
    )
    .action(async (opts: TrainCommandOptions) => {
      const config = resolveConfig(opts);
      const runId = opts.runId ?? defaultRunId(config);
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(runId)) {
        throw new CliError(
          `--run-id "${runId}" may only use letters, digits, '.', '_' and '-' (at most 100)`,
        );
      }
      const runDir = join(config.runDir, runId);
      if (existsSync(join(runDir, 'state.json'))) {
        throw new CliError(
          `run directory ${runDir} already holds a run; use \`siri resume ${runId}\` or another --run-id`,
        );
      }
      const input: TrainingInput = { runId, runDir, config, options: trainingOptions(opts) };
      const { client, address, namespace, close } = await connectClient(temporalAddress(opts.address));
      const workflowId = trainingWorkflowId(runId);
      try {
        await startTrainingRun(client, input);
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          throw new CliError(
            `a run with id "${runId}" is already running; follow it with \`siri status ${runId}\``,
          );
        }
        throw err;
      } finally {
        if (opts.detach) await close();
      }
      console.log(`run ${runId} started (workflow ${workflowId}); files in ${runDir}`);
      console.log(`Web UI: ${webUiLink(address, namespace, workflowId)}`);
      if (opts.detach) return;
      try {
        await followRun(client, workflowId);
      } finally {
        await close();
      }
    });
}

/** The config from --config or --preset, with paths made absolute and checked. */
export function resolveConfig(opts: { config?: string; preset?: string }): RunConfig {
  if (opts.config && opts.preset) throw new CliError('give either --config or --preset, not both');
  let config: RunConfig;
  if (opts.config) config = loadRunConfigFile(opts.config);
  else {
    const preset = opts.preset ?? '';
    if (!isPresetName(preset)) {
      throw new CliError(
        `${opts.preset ? `unknown --preset "${preset}"` : 'missing --config or --preset'} (presets: ${presetNames.join(', ')})`,
      );
    }
    config = parseRunConfig(PRESETS[preset]);
  }
  return checkPaths(absolutePaths(config));
}

/** The config with every path made absolute (workers may run elsewhere in the file tree). */
export function absolutePaths(config: RunConfig): RunConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(p));
  return {
    ...config,
    modelDir: abs(config.modelDir),
    ...(config.tokenizerDir ? { tokenizerDir: abs(config.tokenizerDir) } : {}),
    runDir: abs(config.runDir),
    trainData: { ...config.trainData, files: config.trainData.files.map(abs) },
    eval: { ...config.eval, dataFiles: config.eval.dataFiles.map(abs) },
  };
}

/** Every path the run needs exists, before anything is started; errors name the field and the file. */
export function checkPaths(config: RunConfig): RunConfig {
  const problems: string[] = [];
  const dir = (field: string, path: string, must: string[]): void => {
    if (!existsSync(path) || !statSync(path).isDirectory())
      problems.push(`${field}: ${path} is not a directory`);
    else
      for (const file of must)
        if (!existsSync(join(path, file))) problems.push(`${field}: ${join(path, file)} is missing`);
  };
  const file = (field: string, path: string): void => {
    if (!existsSync(path) || !statSync(path).isFile()) problems.push(`${field}: ${path} does not exist`);
  };
  dir('modelDir', config.modelDir, ['config.json']);
  dir('tokenizerDir', config.tokenizerDir ?? config.modelDir, ['tokenizer.json']);
  config.trainData.files.forEach((f, i) => file(`trainData.files[${i}]`, f));
  config.eval.dataFiles.forEach((f, i) => file(`eval.dataFiles[${i}]`, f));
  if (problems.length > 0) throw new CliError(`the run config names missing files: ${problems.join('; ')}`);
  return config;
}

function trainingOptions(opts: TrainCommandOptions): Partial<TrainingOptions> {
  const out: Partial<TrainingOptions> = {};
  const positive = (flag: string, value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0)
      throw new CliError(`${flag} must be a positive number, got "${value}"`);
    return n;
  };
  if (opts.stepsPerExecution)
    out.stepsPerExecution = Math.round(positive('--steps-per-execution', opts.stepsPerExecution));
  if (opts.heartbeatTimeout)
    out.heartbeatTimeoutMs = positive('--heartbeat-timeout', opts.heartbeatTimeout) * 1000;
  if (opts.hostStartTimeout)
    out.hostStartTimeoutMs = positive('--host-start-timeout', opts.hostStartTimeout) * 1000;
  return out;
}

function defaultRunId(config: RunConfig): string {
  const now = new Date();
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${config.schedule.kind}-${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
}

/** The memo shown in the Web UI: a one-screen summary of the config. */
export function configSummary(config: RunConfig): Record<string, unknown> {
  return {
    model: config.modelDir,
    schedule: describeSchedule(config.schedule),
    totalSteps: config.totalSteps,
    batch: `${config.batchPrompts} prompts × ${config.groupSize} samples`,
    lr: config.lr,
    clip: `${config.clipLow}/${config.clipHigh}`,
    loss: `${config.loss} (${config.lossAggregation})`,
    temperature: config.temperature,
    seed: config.seed,
    device: config.device,
  };
}

/** Starts the siriTraining workflow of a run, with its memo (config summary) and search attributes. */
export async function startTrainingRun(client: Client, input: TrainingInput): Promise<void> {
  await client.workflow.start('siriTraining', {
    taskQueue: SHARED_TASK_QUEUE,
    workflowId: trainingWorkflowId(input.runId),
    args: [input],
    memo: { runDir: input.runDir, config: configSummary(input.config) },
    typedSearchAttributes: [
      { key: SiriRunId, value: input.runId },
      { key: SiriScheduler, value: input.config.schedule.kind },
      { key: SiriKind, value: 'train' },
    ],
  });
}
