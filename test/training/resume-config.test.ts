// A run resumed with a changed config.json (`siri resume --config`) never reuses work done under the old
// one: rollout files and checkpoint statistics record the config's sha256, so step t's rollout and
// checkpoint t written before the change are redone — with the new config, exactly as a fresh run would.
// The activities run in Temporal's activity test environment (real activity context, real engine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeReward } from '../../activities/reward';
import { update } from '../../activities/update';
import { releasePolicy } from '../../training/policy-host';
import type { CheckpointRef } from '../../workflows/types';
import type { UpdateResult } from '../../workflows/activity-types';
import { prepareAndRollOutStep0 } from '../helpers/step0';
import { tempDir } from '../helpers/temporal';
import { makeWorld, sha256, worldAvailable } from '../durability/world';

const skip = worldAvailable() ? false : 'the toy base model (toy/base) is not built yet';

/** Prepares the run (or re-prepares it with a new config) and trains step 0; returns checkpoint 1. */
async function trainStep0(runDir: string, configPath: string): Promise<CheckpointRef> {
  const maxTokens = 128;
  const { env, baseCheckpoint, rolled } = await prepareAndRollOutStep0(runDir, configPath, maxTokens);
  const graded = await computeReward({ runDir, step: 0, maxTokens, rolloutRefs: [rolled.rolloutRef] }, null);
  const updated: UpdateResult = await env.run(update, {
    runId: 'r',
    runDir,
    step: 0,
    checkpoint: baseCheckpoint,
    batchRef: graded.batchRef,
  });
  return updated.checkpoint;
}

test(
  'resuming with a changed config redoes step t under the new config',
  { skip, timeout: 300_000 },
  async () => {
    const world = await makeWorld(tempDir('resume-config'));
    try {
      const configA = world.configPath({ runDir: join(world.dir, 'runs-a'), temperature: 1.0, lr: 1e-4 });
      const configB = world.configPath({ runDir: join(world.dir, 'runs-a'), temperature: 0.7, lr: 3e-4 });
      const fresh = world.configPath({ runDir: join(world.dir, 'runs-b'), temperature: 0.7, lr: 3e-4 });
      const runDir = join(world.dir, 'runs-a', 'r');
      const underA = await trainStep0(runDir, configA);
      const weightsA = sha256(join(underA.path, 'model.safetensors'));
      const rolloutA = readFileSync(join(runDir, 'rollouts', 'step-000000-shard-0.json'), 'utf8');
      // The same run directory, resumed with config B: the rollout and checkpoint 1 are redone …
      const underB = await trainStep0(runDir, configB);
      assert.notEqual(readFileSync(join(runDir, 'rollouts', 'step-000000-shard-0.json'), 'utf8'), rolloutA);
      assert.notEqual(sha256(join(underB.path, 'model.safetensors')), weightsA);
      // … and equal what a fresh run under config B writes.
      const freshB = await trainStep0(join(world.dir, 'runs-b', 'r'), fresh);
      assert.equal(
        sha256(join(underB.path, 'model.safetensors')),
        sha256(join(freshB.path, 'model.safetensors')),
      );
      // Unchanged config: the complete checkpoint is reused as it is (idempotent retry).
      const again = await trainStep0(runDir, configB);
      assert.equal(again.sha256, underB.sha256);
    } finally {
      releasePolicy();
    }
  },
);
