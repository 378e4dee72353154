// Live progress of a training run in the terminal (step, L(t), phase, tokens/s, reward, mean length),
// polled from the workflow's queries. Ctrl-C detaches; the run goes on.
import { SingleBar, Presets } from 'cli-progress';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { metricsQuery, progressQuery, type TrainingProgress } from '../workflows/messages';
import type { TrainingResult } from '../workflows/training';
import { CliError } from './errors';

export async function followRun(client: Client, workflowId: string): Promise<TrainingResult | null> {
  const handle = client.workflow.getHandle(workflowId);
  const interactive = process.stdout.isTTY === true;
  const bar = new SingleBar(
    {
      format:
        'step {value}/{total} |{bar}| L={maxTokens} {phase} | reward {reward} | len {length} | {tps} tok/s | {activity}',
      hideCursor: true,
      noTTYOutput: !interactive,
      notTTYSchedule: 10_000,
    },
    Presets.shades_classic,
  );
  let detached = false;
  const onSigint = (): void => {
    detached = true;
  };
  process.once('SIGINT', onSigint);
  let started = false;
  const result = handle.result() as Promise<TrainingResult>;
  let done = false;
  void result.then(
    () => (done = true),
    () => (done = true),
  );
  try {
    while (!done && !detached) {
      try {
        const progress: TrainingProgress = await handle.query(progressQuery);
        const recent = await handle.query(metricsQuery);
        const last = recent[recent.length - 1];
        const payload = {
          maxTokens: progress.maxTokens,
          phase: progress.paused ? 'PAUSED' : progress.phase,
          reward: last ? last.rewardMean.toFixed(3) : '-',
          length: last ? last.meanLength.toFixed(1) : '-',
          tps: last ? last.tokensPerSecond.toFixed(0) : '-',
          activity: progress.activity,
        };
        if (!started) {
          bar.start(progress.totalSteps, progress.step, payload);
          started = true;
        } else bar.update(progress.step, payload);
      } catch {
        // The workflow may be between executions (continue-as-new) or not picked up yet: try again.
      }
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    }
  } finally {
    process.off('SIGINT', onSigint);
    if (started) bar.stop();
  }
  if (detached) {
    console.log(
      `detached; the run goes on. Follow it again with: siri status ${workflowId.replace(/^siri-train-/, '')}`,
    );
    return null;
  }
  try {
    const final = await result;
    console.log(`run finished: ${final.steps} steps, final checkpoint ${final.finalCheckpoint.path}`);
    for (const [name, ref] of Object.entries(final.named)) console.log(`  ${name}: ${ref.path}`);
    if (final.warnings.length > 0) console.log(`warnings:\n  ${final.warnings.join('\n  ')}`);
    return final;
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = (err.cause?.cause ?? err.cause) as Error | undefined;
      throw new CliError(
        `run failed: ${cause?.message ?? err.message}; after fixing the cause, continue with \`siri resume ${workflowId.replace(/^siri-train-/, '')}\``,
        1,
      );
    }
    throw err;
  }
}
