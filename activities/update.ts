/**
 * update: one optimizer step (GRPO/DAPO clipped surrogate, AdamW) on step t's batch, starting from
 * checkpoint t−1, then writes checkpoint t atomically (temp dir, fsync, rename, manifest of checksums).
 * Inputs: UpdateInput. Output: UpdateResult (CheckpointRef of checkpoint t + training statistics).
 * Idempotent on (runDir, step): a complete checkpoint t from an earlier attempt is returned as is; else the
 * policy is (re)loaded from checkpoint t−1 when memory holds anything else, so a retry yields the same
 * checkpoint t. A non-finite loss or gradient norm writes nothing and fails non-retryably (NonFiniteLoss).
 * Optimizer steps: `miniBatches` per rollout batch (PPO mini-batches of whole groups; see trainMiniBatches).
 * Heartbeat: {miniBatch, miniBatches, microBatch, of} per micro-batch, and with `of: 0` every second while it
 * waits for the worker's policy behind other work (host task queue; heartbeat timeout applies).
 * With `prefetchRollout`, step t+1's first rollout batch starts generating right after checkpoint t.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import type { TrainStats, UpdateInput, UpdateResult } from '../workflows/activity-types';
import type { Policy, TrainStepOptions } from '../native';
import type { RunConfig } from '../siri/config';
import { combineMiniBatchStats, inferredGroupSizes, miniBatchRanges } from '../siri/minibatches';
import type { FileRef } from '../workflows/types';
import {
  checkpointDir,
  checkpointRef,
  checkpointStatsPath,
  completeCheckpoint,
} from '../training/checkpoints';
import { atomicWriteJson, readVerified } from '../training/files';
import { markSaved, markUnsaved, policyAt, releasePolicy, withPolicyLock } from '../training/policy-host';
import { readRunConfig, runConfigSha256 } from '../training/run-files';
import { throttledHeartbeat, withHeartbeats } from '../training/heartbeat';
import { adoptHostJob, startHostJob } from '../training/host-prefetch';
import { crashDuringSave, maybeCrash } from '../training/faults';
import type { BatchFile } from './reward';
import { prefetchRollout } from './rollout';

export async function update(input: UpdateInput): Promise<UpdateResult> {
  const job = adoptHostJob<RanAheadUpdate | null>(updateJobKey(input));
  if (job) {
    try {
      const ran = await withHeartbeats(() => ({ step: input.step, ...job.progress }), job.result);
      // The host graded the same rollout files, so the batch is the same; anything else is redone here.
      if (ran && ran.batchSha256 === input.batchRef.sha256) return { ...ran.result, ranAhead: true };
    } catch (err) {
      // A verdict on the step itself (a non-finite loss) stands; anything else is retried here.
      if (err instanceof ApplicationFailure && err.nonRetryable) throw err;
    }
  }
  return runUpdate(
    input,
    throttledHeartbeat((p: UpdateProgress) => ({ step: input.step, ...p })),
  );
}

/** Where an update stands: micro-batch `microBatch` of `of` in mini-batch `miniBatch` (`of` 0: waiting for the policy). */
interface UpdateProgress {
  microBatch: number;
  of: number;
  miniBatch: number;
  miniBatches: number;
}

/** An update a host ran ahead, with the hash of the batch it trained on. */
interface RanAheadUpdate {
  batchSha256: string;
  result: UpdateResult;
}

function updateJobKey(input: Omit<UpdateInput, 'batchRef'>): string {
  const { runDir, step, checkpoint, checkpointName } = input;
  return ['update', runDir, runConfigSha256(runDir), step, checkpoint.sha256, checkpointName ?? ''].join('|');
}

/**
 * Starts step t's update in the background as soon as `batch()` gives its batch (null: the workflow will
 * not update from this batch alone, e.g. dynamic sampling wants more). Registered at once, so the
 * `update` activity that follows always finds it.
 */
export function speculateUpdate(
  input: Omit<UpdateInput, 'batchRef'>,
  batch: () => Promise<FileRef | null>,
): void {
  startHostJob<RanAheadUpdate | null>(updateJobKey(input), async (report) => {
    const batchRef = await batch();
    if (!batchRef) return null;
    return { batchSha256: batchRef.sha256, result: await runUpdate({ ...input, batchRef }, report) };
  });
}

/** One optimizer step and checkpoint t (no Temporal context needed: a host job runs it too). */
async function runUpdate(input: UpdateInput, onProgress: (p: UpdateProgress) => void): Promise<UpdateResult> {
  const started = Date.now();
  const completed = input.step + 1;
  const statsPath = checkpointStatsPath(input.runDir, completed);
  const configSha = runConfigSha256(input.runDir);
  const done = await completeCheckpoint(input.runDir, completed, input.checkpointName);
  if (done && existsSync(statsPath)) {
    const recorded = readStatsFile(statsPath);
    if (recorded.configSha === undefined || recorded.configSha === configSha)
      return { checkpoint: done, stats: recorded.stats, wallMs: Date.now() - started };
    // Written under an earlier config.json (the run was resumed with `--config`): redo it.
    rmSync(done.path, { recursive: true, force: true });
    rmSync(statsPath, { force: true });
  }
  const config = readRunConfig(input.runDir);
  const batch = JSON.parse(readVerified(input.batchRef).toString('utf8')) as BatchFile;

  return withPolicyLock(
    async () => {
      const policy = await policyAt(input.runId, input.checkpoint, config.device, {
        computeDtype: config.computeDtype,
      });
      markUnsaved();
      let stats: TrainStats;
      try {
        stats = await trainMiniBatches(policy, batch, config, (p) => {
          maybeCrash('update', input.step);
          onProgress(p);
        });
      } catch (err) {
        releasePolicy();
        throw err;
      }
      // The loss and gradient norm were computed before the optimizer step; a tiny forward pass after it
      // catches weights that the step itself made non-finite (e.g. an absurd learning rate).
      const probe =
        batch.sequences.length > 0
          ? await policy.logprobs([batch.sequences[0] ?? []], [batch.responseMask[0] ?? []])
          : null;
      const probeFinite = probe === null || (probe.logprobs[0] ?? []).every((x) => Number.isFinite(x));
      if (!Number.isFinite(stats.loss) || !Number.isFinite(stats.gradNorm) || !probeFinite) {
        // The in-memory weights may be damaged: drop them so nothing reuses them; write nothing.
        releasePolicy();
        throw ApplicationFailure.create({
          message: `step ${input.step}: ${probeFinite ? `the loss is ${stats.loss} and the gradient norm ${stats.gradNorm}` : 'the weights became non-finite after the optimizer step'} (not finite); no checkpoint was written. Change the config (e.g. a lower lr) and run \`siri resume\`.`,
          type: 'NonFiniteLoss',
          nonRetryable: true,
          details: [{ step: input.step, loss: String(stats.loss), gradNorm: String(stats.gradNorm) }],
        });
      }
      // The statistics first (a retry that finds checkpoint t complete returns them), then the checkpoint:
      // the engine saves atomically (temp dir, fsync, rename) with a manifest and the tokenizer files.
      const statsFile: StatsFile = { step: input.step, completedSteps: completed, stats, configSha };
      atomicWriteJson(statsPath, statsFile);
      const dir = checkpointDir(input.runDir, completed);
      crashDuringSave(dir, input.step);
      await policy.save(dir, { optimizer: true });
      const checkpoint = checkpointRef(dir, completed, input.checkpointName);
      markSaved(input.runId, checkpoint);
      if (input.prefetchRollout) {
        // Queued behind this lock: it starts the moment this update returns.
        prefetchRollout({
          runId: input.runId,
          runDir: input.runDir,
          step: completed,
          shard: 0,
          maxTokens: input.prefetchRollout.maxTokens,
          checkpoint,
        });
      }
      return { checkpoint, stats, wallMs: Date.now() - started };
    },
    () => onProgress({ microBatch: 0, of: 0, miniBatch: 0, miniBatches: config.miniBatches }),
  );
}

/**
 * The optimizer steps of one rollout batch: `config.miniBatches` contiguous mini-batches of whole groups
 * (siri/minibatches.ts), one AdamW step each. With more than one, the log-probs of the rollout policy
 * (checkpoint t−1, at the rollout temperature) are computed first and every step's ratio is taken against
 * them, so the clip acts from the second step on; with one, the ratio is 1 as before.
 */
async function trainMiniBatches(
  policy: Policy,
  batch: BatchFile,
  config: RunConfig,
  onProgress: (p: UpdateProgress) => void,
): Promise<TrainStats> {
  const groupSizes = batch.groupSizes ?? inferredGroupSizes(batch.sequences.length, config.groupSize);
  const ranges = miniBatchRanges(groupSizes, config.miniBatches);
  if (ranges.length === 0) ranges.push({ start: 0, end: batch.sequences.length, groups: 0 });
  const options: TrainStepOptions = {
    loss: 'grpo',
    clipLow: config.clipLow,
    clipHigh: config.clipHigh,
    ...(config.clipC !== undefined ? { clipC: config.clipC } : {}),
    lossAggregation: config.lossAggregation,
    klCoef: config.klCoef,
    entropyCoef: config.entropyCoef,
    temperature: config.temperature,
    lr: config.lr,
    betas: config.betas,
    eps: 1e-8,
    weightDecay: config.weightDecay,
    gradClip: config.gradClip,
    microBatchTokens: config.microBatchTokens,
    activationCheckpointing: config.activationCheckpointing,
  };
  const oldLogprobs =
    ranges.length > 1
      ? (
          await policy.logprobs(batch.sequences, batch.responseMask, {
            temperature: config.temperature,
            microBatchTokens: config.microBatchTokens,
          })
        ).logprobs
      : null;
  const parts: TrainStats[] = [];
  for (const [index, { start, end }] of ranges.entries()) {
    const result = await policy.trainStep(
      {
        sequences: batch.sequences.slice(start, end),
        responseMask: batch.responseMask.slice(start, end),
        advantages: batch.advantages.slice(start, end),
        ...(oldLogprobs ? { oldLogprobs: oldLogprobs.slice(start, end) } : {}),
      },
      {
        ...options,
        onProgress: (p: { current: number; total: number }) =>
          onProgress({
            microBatch: p.current,
            of: p.total,
            miniBatch: index + 1,
            miniBatches: ranges.length,
          }),
      },
    );
    parts.push(result);
  }
  return combineMiniBatchStats(parts);
}

/** The statistics the attempt that wrote checkpoint t recorded (identical on every attempt). */
function readStatsFile(path: string): StatsFile {
  return JSON.parse(readFileSync(path, 'utf8')) as StatsFile;
}

/** ckpt-N.stats.json: written before checkpoint N itself; `configSha` is absent in older runs. */
interface StatsFile {
  step: number;
  completedSteps: number;
  stats: UpdateResult['stats'];
  configSha?: string;
}
