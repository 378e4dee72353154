/**
 * rollout: samples G responses for each prompt of rollout batch (step, shard) with max new tokens L(t),
 * from the policy at checkpoint t−1, and writes them to runDir/rollouts/step-T-shard-S.json.
 * Inputs: RolloutInput. Output: RolloutResult (FileRef of the rollout file).
 * Idempotent on (runDir, step, shard): prompts and the sampling seed derive from (run seed, step, shard),
 * so a retry regenerates the same tokens; a complete file from an earlier attempt is returned as is.
 * Heartbeat: {phase, tokens, active} about every second (host task queue; heartbeat timeout applies).
 * Prefetch: when `update` already started this exact generation in this process (see
 * training/rollout-prefetch.ts), the activity adopts it and heartbeats its progress until it ends.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RolloutInput, RolloutResult } from '../workflows/activity-types';
import { deriveSeed, SeedPurpose, batchProblemIndices } from '../training/seeds';
import { sha256Bytes, writeFileRef } from '../training/files';
import { policyAt, withPolicyLock } from '../training/policy-host';
import { trainProblems, promptText } from '../training/problems';
import { readRunConfig, runConfigSha256, runPaths } from '../training/run-files';
import { tokenizerFor } from '../training/tokenizers';
import { throttledHeartbeat, withHeartbeats } from '../training/heartbeat';
import { adoptHostJob, startHostJob } from '../training/host-prefetch';
import { computeReward } from './reward';
import { speculateUpdate } from './update';
import { maybeCrash } from '../training/faults';

/** The rollout file: prompts of the batch and every sample, prompt-major. */
export interface RolloutFile {
  step: number;
  shard: number;
  maxTokens: number;
  checkpointSha: string;
  /** sha256 of the run's config.json the samples were drawn under (training/run-files.ts). */
  configSha: string;
  prompts: { problemId: string; file: string; answer: string; promptIds: number[] }[];
  /** samples[i * G + j] is sample j of prompt i. */
  samples: { prompt: number; tokenIds: number[]; logprobs: number[]; finishReason: 'stop' | 'length' }[];
}

/** Progress of a generation, as heartbeated. */
interface RolloutProgress {
  phase: string;
  tokens: number;
  active: number;
}

export async function rollout(input: RolloutInput): Promise<RolloutResult> {
  const result = await obtainRollout(input);
  runAheadToUpdate(input, result);
  return result;
}

/** Adopts the generation a host job started for this input, else reuses a complete file, else generates. */
async function obtainRollout(input: RolloutInput): Promise<RolloutResult> {
  const job = adoptHostJob<RolloutResult>(rolloutJobKey(input));
  if (job) {
    try {
      const result = await withHeartbeats(
        () => ({ step: input.step, shard: input.shard, ...job.progress }),
        job.result,
      );
      return { ...result, ranAhead: true };
    } catch {
      // The background generation failed (e.g. the policy was released): generate here instead.
    }
  }
  const existing = existingRollout(input, Date.now());
  if (existing) return existing;
  return generateRollout(
    input,
    throttledHeartbeat((p: RolloutProgress) => ({ step: input.step, shard: input.shard, ...p })),
  );
}

function rolloutJobKey(input: RolloutInput): string {
  const { runDir, step, shard, maxTokens, checkpoint } = input;
  return ['rollout', runDir, runConfigSha256(runDir), step, shard, maxTokens, checkpoint.sha256].join('|');
}

/** Starts generating `input`'s rollout in the background; `rollout(input)` will adopt it. */
export function prefetchRollout(input: RolloutInput): void {
  startHostJob<RolloutResult>(rolloutJobKey(input), (report) => generateRollout(input, report));
}

/**
 * What the workflow will do next when the batch needs no more rollouts: grade it (the same pure reward
 * computation its local activity runs) and train step t on it, here, right away; the `update` activity
 * adopts that work. Any failure is left for the activities themselves to meet.
 */
function runAheadToUpdate(input: RolloutInput, result: RolloutResult): void {
  const plan = input.prefetchUpdate;
  if (!plan) return;
  const { runId, runDir, step, maxTokens, checkpoint } = input;
  speculateUpdate({ runId, runDir, step, checkpoint, ...plan }, async () => {
    const graded = await computeReward({ runDir, step, maxTokens, rolloutRefs: [result.rolloutRef] }, null);
    return graded.stats.needMore ? null : graded.batchRef;
  });
}

/** The result for a complete rollout file an earlier attempt wrote for the same weights and budget. */
function existingRollout(input: RolloutInput, startedAtMs: number): RolloutResult | null {
  const path = runPaths(input.runDir).rollout(input.step, input.shard);
  if (!existsSync(path)) return null;
  const bytes = readFileSync(path);
  const existing = JSON.parse(bytes.toString('utf8')) as RolloutFile;
  if (
    existing.checkpointSha !== input.checkpoint.sha256 ||
    existing.maxTokens !== input.maxTokens ||
    existing.configSha !== runConfigSha256(input.runDir)
  )
    return null;
  return {
    rolloutRef: { path, sha256: sha256Bytes(bytes), bytes: bytes.length },
    samples: existing.samples.length,
    generatedTokens: existing.samples.reduce((s, x) => s + x.tokenIds.length, 0),
    wallMs: 0,
    startedAtMs,
  };
}

/** While the rollout waits its turn for the worker's policy, its progress says so (and heartbeats). */
const waitingFor = (onProgress: (p: RolloutProgress) => void) => (): void =>
  onProgress({ phase: 'waiting for the policy', tokens: 0, active: 0 });

/**
 * Generates and writes the rollout file (no Temporal context needed: the prefetch calls it too).
 * `onProgress` sees {phase, tokens, active} for every progress report of the engine.
 */
async function generateRollout(
  input: RolloutInput,
  onProgress: (p: RolloutProgress) => void,
): Promise<RolloutResult> {
  const startedAtMs = Date.now();
  const path = runPaths(input.runDir).rollout(input.step, input.shard);
  const config = readRunConfig(input.runDir);
  const configSha = runConfigSha256(input.runDir);
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

  const results = await withPolicyLock(async () => {
    const policy = await policyAt(input.runId, input.checkpoint, config.device, {
      computeDtype: config.computeDtype,
    });
    return policy.generate(
      prompts.map((p) => p.promptIds),
      {
        samplesPerPrompt: config.groupSize,
        maxNewTokens: input.maxTokens,
        temperature: config.temperature,
        topP: config.topP,
        seed: deriveSeed(config.seed, SeedPurpose.rollout, input.step, input.shard),
        stopTokenIds: tokenizer.stopTokenIds,
        kvCacheDtype: config.kvCacheDtype,
        onProgress: (p: { current: number; total: number; active?: number; phase: string }) => {
          maybeCrash('rollout', input.step);
          onProgress({ phase: p.phase, tokens: p.current, active: p.active ?? 0 });
        },
      },
    );
  }, waitingFor(onProgress));
  const file: RolloutFile = {
    step: input.step,
    shard: input.shard,
    maxTokens: input.maxTokens,
    checkpointSha: input.checkpoint.sha256,
    configSha,
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
