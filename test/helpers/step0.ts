// Step 0 of a run driven activity by activity in Temporal's activity test environment (real activity
// context, real engine): prepare the run from a config file, then roll out step 0. The tests go on from
// there (grade, update) in their own ways.
import { MockActivityEnvironment } from '@temporalio/testing';
import { prepareRun } from '../../activities/prepare-run';
import { rollout } from '../../activities/rollout';
import { loadRunConfigFile } from '../../cli/config-file';
import type { PrepareRunResult, RolloutResult } from '../../workflows/activity-types';
import type { CheckpointRef } from '../../workflows/types';

export interface RolledOutStep0 {
  env: MockActivityEnvironment;
  baseCheckpoint: CheckpointRef;
  rolled: RolloutResult;
}

/** Prepares run `r` in `runDir` (or re-prepares it with a new config) and rolls out step 0 at `maxTokens`. */
export async function prepareAndRollOutStep0(
  runDir: string,
  configPath: string,
  maxTokens: number,
): Promise<RolledOutStep0> {
  const env = new MockActivityEnvironment();
  const config = loadRunConfigFile(configPath);
  const prepared: PrepareRunResult = await env.run(prepareRun, { runId: 'r', runDir, config });
  const rolled: RolloutResult = await env.run(rollout, {
    runId: 'r',
    runDir,
    step: 0,
    shard: 0,
    maxTokens,
    checkpoint: prepared.baseCheckpoint,
  });
  return { env, baseCheckpoint: prepared.baseCheckpoint, rolled };
}
