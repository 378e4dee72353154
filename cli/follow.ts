// Live progress of a training run in the terminal (step, L(t), phase, tokens/s, reward, mean length),
// polled from the workflow's queries. Ctrl-C detaches; the run goes on.
import { SingleBar, Presets } from 'cli-progress';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { metricsQuery, progressQuery, type TrainingProgress } from '../workflows/messages';
import type { TrainingResult } from '../workflows/training';
import { CliError } from './errors';

/**
 * Whether the run is still going: its latest execution is RUNNING (or has just continued as new). A
 * failed describe (server briefly unreachable) counts as running, so the loop polls again; a run that is
 * not there does not.
 */
async function stillRunning(handle: WorkflowHandle): Promise<boolean> {
  try {
    const status = (await handle.describe()).status.name;
    return status === 'RUNNING' || status === 'CONTINUED_AS_NEW';
  } catch (err) {
    return !(err instanceof WorkflowNotFoundError);
  }
}

/** Follows a run with a progress bar until it closes (returns its result) or Ctrl-C detaches (null). */
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
  let wakeUp: () => void = () => undefined;
  const onSigint = (): void => {
    detached = true;
    wakeUp();
  };
  process.once('SIGINT', onSigint);
  let started = false;
  // No long-poll on the result while following: a pending handle.result() keeps retrying on a timer, and
  // after a detach closes the connection that retry threw 'Channel has been shut down' as an uncaught
  // exception. The status is polled instead, and the result fetched once the run has closed.
  try {
    while (!detached && (await stillRunning(handle))) {
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
      await new Promise<void>((r) => {
        const timer = setTimeout(r, 1000);
        wakeUp = () => {
          clearTimeout(timer);
          r();
        };
      });
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
    const final = (await handle.result()) as TrainingResult;
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
