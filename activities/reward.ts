/**
 * reward: grades every sample of a step's rollout shards under the length cap L(t) (R = 1 iff an answer
 * is extracted from the response clipped to L and it is correct), computes GRPO advantages per group,
 * applies DAPO dynamic sampling when enabled, and writes the training batch to runDir/batches/step-T.json.
 * Inputs: RewardInput. Output: RewardResult (FileRef of the batch + step statistics).
 * Idempotent: a pure function of the rollout files (verified by hash); the batch file is rewritten
 * atomically with the same content. Runs as a local activity of the training workflow (CPU only).
 * Heartbeat (only when scheduled as a normal activity): {graded} per shard.
 */
import { readFileSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { gradeResponse } from '../grader/node';
import { addRolloutBatch, grpoAdvantages, startDynamicSampling } from '../siri/advantages';
import { keywordRatesByCorrectness, lengthStatsByCorrectness, truncationRate } from '../siri/metrics';
import { lengthCappedReward, type SampleReward } from '../siri/reward';
import type { RewardInput, RewardResult, RewardStats } from '../workflows/activity-types';
import type { RolloutFile } from './rollout';
import { readVerified, writeFileRef } from '../training/files';
import { readRunConfig, runPaths } from '../training/run-files';
import { tokenizerFor } from '../training/tokenizers';

/** The training batch consumed by `update`: full sequences (prompt + response) with masks and advantages. */
export interface BatchFile {
  step: number;
  maxTokens: number;
  sequences: number[][];
  /** 1 on response tokens (trained), 0 on prompt tokens. */
  responseMask: number[][];
  /** One advantage per sequence (broadcast to its response tokens by the engine). */
  advantages: number[];
  /** Sequences per group, in batch order (PPO mini-batches split at group boundaries); absent in old files. */
  groupSizes?: number[];
}

interface Group {
  promptIds: number[];
  rewards: number[];
  responses: number[][];
}

export async function reward(input: RewardInput): Promise<RewardResult> {
  const context = Context.current();
  // Run as a local activity by the training workflow (no heartbeats there); as a normal one it heartbeats.
  return computeReward(input, context.info.isLocal ? null : (details) => context.heartbeat(details));
}

/** The reward computation itself (also run ahead by a host worker, training/host-prefetch.ts). */
export async function computeReward(
  input: RewardInput,
  heartbeat: ((details: { graded: number }) => void) | null,
): Promise<RewardResult> {
  const started = Date.now();
  const config = readRunConfig(input.runDir);
  const all: { record: SampleReward; text: string }[] = [];
  let sampling = startDynamicSampling<Group>();
  let decision: ReturnType<typeof addRolloutBatch<Group>> | null = null;
  const tokenizer = await tokenizerFor(config.tokenizerDir ?? config.modelDir);

  for (const ref of input.rolloutRefs) {
    const rollout = JSON.parse(readVerified(ref).toString('utf8')) as RolloutFile;
    const groups: Group[] = rollout.prompts.map((p) => ({
      promptIds: p.promptIds,
      rewards: [],
      responses: [],
    }));
    for (const sample of rollout.samples) {
      const prompt = rollout.prompts[sample.prompt];
      const group = groups[sample.prompt];
      if (!prompt || !group) throw new Error(`${ref.path}: sample refers to missing prompt ${sample.prompt}`);
      const text = tokenizer.decode(sample.tokenIds.slice(0, input.maxTokens));
      const record = lengthCappedReward(
        { tokenIds: sample.tokenIds, finishReason: sample.finishReason },
        prompt.answer,
        input.maxTokens,
        { grade: (response, gold) => gradeResponse(response, gold), decode: () => text },
      );
      all.push({ record, text });
      group.rewards.push(record.reward);
      group.responses.push(sample.tokenIds.slice(0, input.maxTokens));
    }
    decision = addRolloutBatch(sampling, groups, {
      enabled: config.dynamicSampling.enabled,
      batchPrompts: config.batchPrompts,
      maxExtraRolloutBatches: config.dynamicSampling.maxExtraRolloutBatches,
    });
    sampling = decision.state;
    heartbeat?.({ graded: all.length });
  }
  if (!decision) throw new Error('reward: no rollout files given');

  const groupSizes: number[] = [];
  const batch: BatchFile = {
    step: input.step,
    maxTokens: input.maxTokens,
    sequences: [],
    responseMask: [],
    advantages: [],
    groupSizes,
  };
  for (const group of decision.batch) {
    groupSizes.push(group.responses.length);
    // A_i = (R_i − mean(R)) / (std(R) + ε) within the group (Dr. GRPO: without the division).
    const advantages = grpoAdvantages(group.rewards, { normalizeStd: config.normalizeAdvantageStd });
    group.responses.forEach((response, i) => {
      batch.sequences.push([...group.promptIds, ...response]);
      batch.responseMask.push([...group.promptIds.map(() => 0), ...response.map(() => 1)]);
      batch.advantages.push(advantages[i] ?? 0);
    });
  }
  const batchRef = writeFileRef(runPaths(input.runDir).batch(input.step), JSON.stringify(batch));
  return { batchRef, stats: stepStats(all, decision.status, sampling), wallMs: Date.now() - started };
}

function stepStats(
  all: { record: SampleReward; text: string }[],
  status: string,
  sampling: { kept: unknown[]; droppedGroups: number },
): RewardStats {
  const records = all.map((a) => a.record);
  const lengths = lengthStatsByCorrectness(records);
  const keywords = keywordRatesByCorrectness(
    all.map((a) => ({ text: a.text, tokens: a.record.length, correct: a.record.correct })),
  );
  const rewardMean = records.length ? records.reduce((s, r) => s + r.reward, 0) / records.length : 0;
  return {
    rewardMean,
    accuracy: rewardMean,
    meanLength: lengths.all?.mean ?? 0,
    medianLength: lengths.all?.median ?? 0,
    p90Length: lengths.all?.p90 ?? 0,
    meanLengthCorrect: lengths.correct?.mean ?? null,
    meanLengthIncorrect: lengths.incorrect?.mean ?? null,
    truncationRate: truncationRate(records),
    keywordsPer1k: keywords.all.per1k,
    keptGroups: sampling.kept.length,
    droppedGroups: sampling.droppedGroups,
    needMore: status === 'need-more',
  };
}

/** For tests and tools: the batch file behind a ref. */
export function readBatchFile(path: string): BatchFile {
  return JSON.parse(readFileSync(path, 'utf8')) as BatchFile;
}
