// PPO mini-batches in the update activity: with `miniBatches: 2` one rollout batch is trained as two
// AdamW steps on whole groups, both against the rollout policy's log-probs. Checked against the same
// steps taken directly on the engine (old log-probs, then a step per half), and against one step per
// batch, whose ratio is always 1 so its clip never acts. Real activity context, real engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { computeReward, readBatchFile } from '../../activities/reward';
import { update } from '../../activities/update';
import { loadRunConfigFile } from '../../cli/config-file';
import { Policy } from '../../native';
import { writeFileRef } from '../../training/files';
import { releasePolicy } from '../../training/policy-host';
import type { CheckpointRef } from '../../workflows/types';
import type { UpdateResult } from '../../workflows/activity-types';
import { prepareAndRollOutStep0 } from '../helpers/step0';
import { tempDir } from '../helpers/temporal';
import { makeWorld, sha256, worldAvailable } from '../durability/world';

const skip = worldAvailable() ? false : 'the toy base model (toy/base) is not built yet';

/** Fixed advantages, so that every group has a gradient whatever the rollouts' rewards were. */
const ADVANTAGES = [1, -1, 0.5, -0.5, -1, 1, -0.5, 0.5];

interface Trained {
  base: CheckpointRef;
  batchPath: string;
  result: UpdateResult;
}

/** Prepares a run, rolls out step 0, writes a batch with ADVANTAGES and runs the update activity. */
async function trainStep0(runDir: string, configPath: string): Promise<Trained> {
  const maxTokens = 64;
  const { env, baseCheckpoint, rolled } = await prepareAndRollOutStep0(runDir, configPath, maxTokens);
  const graded = await computeReward({ runDir, step: 0, maxTokens, rolloutRefs: [rolled.rolloutRef] }, null);
  const batch = readBatchFile(graded.batchRef.path);
  assert.deepEqual(batch.groupSizes, [4, 4]);
  const batchPath = join(runDir, 'fixed-advantages.json');
  const batchRef = writeFileRef(batchPath, JSON.stringify({ ...batch, advantages: ADVANTAGES }));
  const result: UpdateResult = await env.run(update, {
    runId: 'r',
    runDir,
    step: 0,
    checkpoint: baseCheckpoint,
    batchRef,
  });
  return { base: baseCheckpoint, batchPath, result };
}

test(
  'two mini-batches are two clipped steps against the rollout policy, as on the engine directly',
  { skip, timeout: 300_000 },
  async () => {
    const world = await makeWorld(tempDir('mini-batches'));
    const common = { groupSize: 4, batchPrompts: 2, lr: 1e-2, temperature: 1.0, weightDecay: 0 };
    try {
      const two = await trainStep0(
        join(world.dir, 'runs-two', 'r'),
        world.configPath({ ...common, runDir: join(world.dir, 'runs-two'), miniBatches: 2 }),
      );
      const one = await trainStep0(
        join(world.dir, 'runs-one', 'r'),
        world.configPath({ ...common, runDir: join(world.dir, 'runs-one'), miniBatches: 1 }),
      );
      releasePolicy();

      // One step per batch: on-policy, the ratio is 1 and nothing is clipped.
      assert.equal(one.result.stats.clipFracLow + one.result.stats.clipFracHigh, 0);
      // Two: the second step's ratios moved away from 1 by the first step, some beyond the clip.
      assert.ok(
        two.result.stats.clipFracLow + two.result.stats.clipFracHigh > 0,
        `expected clipped tokens, got ${JSON.stringify(two.result.stats)}`,
      );
      assert.ok(two.result.stats.approxKl > 0);
      assert.equal(two.result.stats.tokens, one.result.stats.tokens);
      // The update reports training statistics only (spread into metrics.jsonl after its `step`).
      const statKeys = [
        'approxKl',
        'clipFracHigh',
        'clipFracLow',
        'entropy',
        'gradNorm',
        'loss',
        'microBatches',
        'tokens',
      ];
      assert.deepEqual(Object.keys(one.result.stats).sort(), statKeys);
      assert.deepEqual(Object.keys(two.result.stats).sort(), statKeys);
      const weights = (c: CheckpointRef): string => sha256(join(c.path, 'model.safetensors'));
      assert.notEqual(weights(two.result.checkpoint), weights(one.result.checkpoint));

      // The reference: the same two steps taken on the engine by hand.
      const batch = readBatchFile(two.batchPath);
      const policy = await Policy.load(two.base.path);
      try {
        const microBatchTokens = loadRunConfigFile(
          world.configPath({ ...common, miniBatches: 2 }),
        ).microBatchTokens;
        const options = {
          loss: 'grpo' as const,
          lossAggregation: 'token-mean' as const,
          clipLow: 0.2,
          clipHigh: 0.28,
          temperature: 1.0,
          lr: 1e-2,
          betas: [0.9, 0.999] as [number, number],
          eps: 1e-8,
          weightDecay: 0,
          gradClip: 1.0,
          microBatchTokens,
        };
        const old = (
          await policy.logprobs(batch.sequences, batch.responseMask, { temperature: 1.0, microBatchTokens })
        ).logprobs;
        for (const [start, end] of [
          [0, 4],
          [4, 8],
        ] as const) {
          await policy.trainStep(
            {
              sequences: batch.sequences.slice(start, end),
              responseMask: batch.responseMask.slice(start, end),
              advantages: ADVANTAGES.slice(start, end),
              oldLogprobs: old.slice(start, end),
            },
            options,
          );
        }
        const referenceDir = join(world.dir, 'reference');
        await policy.save(referenceDir);
        assert.equal(weights(two.result.checkpoint), sha256(join(referenceDir, 'model.safetensors')));
      } finally {
        policy.dispose();
      }
    } finally {
      releasePolicy();
    }
  },
);
