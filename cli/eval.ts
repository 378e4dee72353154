// `siri eval`: evaluates a model on problem sets (JSONL/JSON/Parquet) as a durable, sharded Temporal
// workflow — k samples per problem, graded — and writes results.json, results.md and the samples.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { describeLoad, loadProblemSets, formatSkipped } from '../eval/datasets';
import { parseTemplateName } from '../eval/templates';
import { SHARED_TASK_QUEUE } from '../workflows/constants';
import { SiriKind, SiriRunId } from '../workflows/search-attributes';
import type { EvalJobInput } from '../workflows/activity-types';
import { evalProgressQuery } from '../workflows/evaluation';
import type { EvalSummary } from '../workflows/types';
import { CliError } from './errors';
import { parseNonNegativeInt, parsePositiveInt, temporalAddress } from './options';
import { connectClient, webUiLink } from './temporal-client';

interface EvalOptions {
  model: string;
  data: string;
  samples: string;
  temperature: string;
  topP: string;
  maxTokens: string;
  template: string;
  out?: string;
  problemField: string;
  answerField: string;
  shardSize: string;
  seed: string;
  device: string;
  label?: string;
  address?: string;
}

function parseUnit(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max)
    throw new CliError(`${flag} must be a number in [${min}, ${max}], got "${value}"`);
  return n;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model on problem sets: pass@1, pass@k, lengths, truncation, keywords, entropy')
    .requiredOption('--model <dir>', 'Hugging Face model directory or siri checkpoint')
    .requiredOption('--data <files>', 'problem sets, comma-separated (JSONL, JSON or Parquet)')
    .option('--samples <k>', 'samples per problem', '64')
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', '0.6')
    .option('--top-p <p>', 'nucleus mass', '0.95')
    .option('--max-tokens <n>', 'max new tokens per sample', '16384')
    .option('--template <name>', 'prompt template: r1 | qwen | plain | raw', 'r1')
    .option('--out <dir>', 'results directory (default: evals/<model>-<date>)')
    .option('--problem-field <name>', 'field holding the problem', 'problem')
    .option('--answer-field <name>', 'field holding the reference answer', 'answer')
    .option('--shard-size <n>', 'problems per shard (one activity)', '16')
    .option('--seed <n>', 'sampling seed', '0')
    .option('--device <d>', 'cpu | cuda', 'cpu')
    .option('--label <name>', 'row name in reports')
    .option('--address <host:port>', 'Temporal frontend')
    .action(async (opts: EvalOptions) => {
      const job = await buildJob(opts);
      const { client, address, namespace, close } = await connectClient(temporalAddress(opts.address));
      try {
        const workflowId = `siri-eval-${basename(job.outDir)}`;
        const handle = await client.workflow.start('siriEval', {
          taskQueue: SHARED_TASK_QUEUE,
          workflowId,
          args: [job],
          memo: { outDir: job.outDir, model: job.modelDir },
          typedSearchAttributes: [
            { key: SiriKind, value: 'eval' },
            { key: SiriRunId, value: basename(job.outDir) },
          ],
        });
        console.log(
          `evaluation started (workflow ${workflowId}); Web UI: ${webUiLink(address, namespace, workflowId)}`,
        );
        const bar = new SingleBar(
          { format: 'shards {value}/{total} |{bar}| {percentage}%', noTTYOutput: !process.stdout.isTTY },
          Presets.shades_classic,
        );
        let started = false;
        const result = handle.result() as Promise<EvalSummary>;
        let done = false;
        void result.finally(() => (done = true)).catch(() => undefined);
        while (!done) {
          try {
            const p = await handle.query(evalProgressQuery);
            if (!started) bar.start(p.shards, p.shardsDone);
            else bar.update(p.shardsDone);
            started = true;
          } catch {
            // not planned yet
          }
          await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
        }
        if (started) bar.stop();
        const summary = await result;
        for (const d of summary.datasets) {
          console.log(
            `${d.name}: pass@1 ${(100 * d.pass1).toFixed(1)}% over ${d.problems} problems × ${d.samplesPerProblem}, mean length ${d.meanLength.toFixed(0)}, truncated ${(100 * d.truncationRate).toFixed(1)}%`,
          );
        }
        console.log(`results: ${join(job.outDir, 'results.json')} and results.md`);
      } finally {
        await close();
      }
    });
}

async function buildJob(opts: EvalOptions): Promise<EvalJobInput> {
  const modelDir = resolve(opts.model);
  if (!existsSync(join(modelDir, 'config.json')))
    throw new CliError(`--model ${modelDir} has no config.json`);
  if (!existsSync(join(modelDir, 'tokenizer.json')))
    throw new CliError(`--model ${modelDir} has no tokenizer.json`);
  const dataFiles = opts.data
    .split(',')
    .map((f) => resolve(f.trim()))
    .filter(Boolean);
  for (const f of dataFiles)
    if (!existsSync(f) || !statSync(f).isFile()) throw new CliError(`--data ${f} does not exist`);
  let template;
  try {
    template = parseTemplateName(opts.template);
  } catch (err) {
    throw new CliError(`--template: ${(err as Error).message}`);
  }
  if (opts.device !== 'cpu' && opts.device !== 'cuda')
    throw new CliError(`--device must be cpu or cuda, got "${opts.device}"`);
  // Load here too, so bad lines are reported (file:line) before anything starts.
  const sets = await loadProblemSets(dataFiles, {
    problemField: opts.problemField,
    answerField: opts.answerField,
    onSkip: (r) => console.error(`skipped ${formatSkipped(r)}`),
  });
  for (const set of sets) console.log(describeLoad(set));
  if (sets.every((s) => s.problems.length === 0)) throw new CliError('no problems to evaluate');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return {
    outDir: resolve(opts.out ?? join('evals', `${basename(modelDir)}-${stamp}`)),
    modelDir,
    dataFiles,
    problemField: opts.problemField,
    answerField: opts.answerField,
    samples: parsePositiveInt('--samples', opts.samples),
    temperature: parseUnit('--temperature', opts.temperature, 0, 10),
    topP: parseUnit('--top-p', opts.topP, Number.MIN_VALUE, 1),
    maxTokens: parsePositiveInt('--max-tokens', opts.maxTokens),
    template,
    seed: parseNonNegativeInt('--seed', opts.seed),
    shardSize: parsePositiveInt('--shard-size', opts.shardSize),
    device: opts.device,
    label: opts.label ?? null,
  };
}
