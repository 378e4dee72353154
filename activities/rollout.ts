/**
 * rollout: samples G responses for each prompt of rollout batch (step, shard) with max new tokens L(t),
 * from the policy at checkpoint t−1, and writes them to runDir/rollouts/step-T-shard-S.json.
 * Inputs: RolloutInput. Output: RolloutResult (FileRef of the rollout file).
 * Idempotent on (runDir, step, shard): prompts and the sampling seed derive from (run seed, step, shard),
 * so a retry regenerates the same tokens; a complete file from an earlier attempt is returned as is.
 * Heartbeat: {phase, tokens, active} about every second (host task queue; heartbeat timeout applies).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RolloutInput, RolloutResult } from '../workflows/activity-types';
import { deriveSeed, SeedPurpose, batchProblemIndices } from '../training/seeds';
import { fileRef, writeFileRef } from '../training/files';
import { policyAt, withPolicyLock } from '../training/policy-host';
import { trainProblems, promptText } from '../training/problems';
import { readRunConfig, runPaths } from '../training/run-files';
import { tokenizerFor } from '../training/tokenizers';
import { throttledHeartbeat } from '../training/heartbeat';
import { maybeCrash } from '../training/faults';

/** The rollout file: prompts of the batch and every sample, prompt-major. */
export interface RolloutFile {
  step: number;
  shard: number;
  maxTokens: number;
  checkpointSha: string;
  prompts: { problemId: string; file: string; answer: string; promptIds: number[] }[];
  /** samples[i * G + j] is sample j of prompt i. */
  samples: { prompt: number; tokenIds: number[]; logprobs: number[]; finishReason: 'stop' | 'length' }[];
}

export async function rollout(input: RolloutInput): Promise<RolloutResult> {
  const startedAtMs = Date.now();
  const path = runPaths(input.runDir).rollout(input.step, input.shard);
  if (existsSync(path)) {
    const existing = JSON.parse(readFileSync(path, 'utf8')) as RolloutFile;
    if (existing.checkpointSha === input.checkpoint.sha256 && existing.maxTokens === input.maxTokens) {
      const generatedTokens = existing.samples.reduce((s, x) => s + x.tokenIds.length, 0);
      return {
        rolloutRef: await fileRef(path),
        samples: existing.samples.length,
        generatedTokens,
        wallMs: 0,
        startedAtMs,
      };
    }
  }
  const config = readRunConfig(input.runDir);
  const problems = await trainProblems(config);
  const tokenizer = await tokenizerFor(config.tokenizerDir ?? config.modelDir);
  const indices = batchProblemIndices({
    runSeed: config.seed,
    datasetSize: problems.length,
    batchPrompts: config.batchPrompts,
    step: input.step,
    shard: input.shard,
    maxShards: config.dynamicSampling.maxExtraRolloutBatches + 1,
  });
  const prompts = indices.map((i) => {
    const problem = problems[i];
    if (!problem) throw new Error(`problem index ${i} out of range`);
    return {
      problemId: problem.id,
      file: problem.file,
      answer: problem.answer,
      promptIds: tokenizer.encode(promptText(config.promptTemplate, problem.problem)),
    };
  });

  let generated = 0;
  const results = await withPolicyLock(async () => {
    const policy = await policyAt(input.runId, input.checkpoint, config.device);
    return policy.generate(
      prompts.map((p) => p.promptIds),
      {
        samplesPerPrompt: config.groupSize,
        maxNewTokens: input.maxTokens,
        temperature: config.temperature,
        topP: config.topP,
        seed: deriveSeed(config.seed, SeedPurpose.rollout, input.step, input.shard),
        stopTokenIds: tokenizer.stopTokenIds,
        onProgress: throttledHeartbeat(
          (p: { current: number; total: number; active?: number; phase: string }) => {
            maybeCrash('rollout', input.step);
            generated = p.current;
            return {
              step: input.step,
              shard: input.shard,
              phase: p.phase,
              tokens: generated,
              active: p.active ?? 0,
            };
          },
        ),
      },
    );
  });
  const file: RolloutFile = {
    step: input.step,
    shard: input.shard,
    maxTokens: input.maxTokens,
    checkpointSha: input.checkpoint.sha256,
    prompts,
    samples: results.map((r) => ({
      prompt: r.promptIndex,
      tokenIds: Array.from(r.tokenIds),
      logprobs: Array.from(r.logprobs, (x) => Math.fround(x)),
      finishReason: r.finishReason,
    })),
  };
  const generatedTokens = file.samples.reduce((s, x) => s + x.tokenIds.length, 0);
  const rolloutRef = writeFileRef(path, JSON.stringify(file));
  return {
    rolloutRef,
    samples: file.samples.length,
    generatedTokens,
    wallMs: Date.now() - startedAtMs,
    startedAtMs,
  };
}
