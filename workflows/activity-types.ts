// Inputs and outputs of the training activities (pure types, shared by workflows and activities).
// Everything large is a file under the run directory, passed as a FileRef.
import type { CheckpointRef, EvalSummary, FileRef, StepMetrics } from './types';
import type { EvalRunConfig } from '../eval/results';
import type { TemplateName } from '../eval/templates';
import type { MiniBatchStats } from '../siri/minibatches';

export interface HostLease {
  /** The worker-specific task queue of the worker that answered (it will hold the policy). */
  hostQueue: string;
  host: string;
  pid: number;
}

export interface PrepareRunInput {
  runId: string;
  runDir: string;
  /** The validated RunConfig as JSON (written to runDir/config.json; activities read it from there). */
  config: unknown;
}

export interface PrepareRunResult {
  /** Checkpoint 0: the base model directory, with a manifest recorded under the run directory. */
  baseCheckpoint: CheckpointRef;
  configRef: FileRef;
}

export interface RolloutInput {
  runId: string;
  runDir: string;
  /** 0-based training step. */
  step: number;
  /** Rollout batch index within the step (0, then 1, 2, … for DAPO dynamic sampling). */
  shard: number;
  /** L(t): max new tokens. */
  maxTokens: number;
  /** The weights to sample from (completed updates = step). */
  checkpoint: CheckpointRef;
  /**
   * Set when this batch completes the step (no dynamic sampling) and nothing comes between it and the
   * update: the host grades it and starts step t's update with these fields right away.
   */
  prefetchUpdate?: Pick<UpdateInput, 'checkpointName' | 'prefetchRollout'>;
}

export interface RolloutResult {
  rolloutRef: FileRef;
  samples: number;
  generatedTokens: number;
  wallMs: number;
  /** Epoch ms when the generation started (for step wall-time accounting). */
  startedAtMs: number;
  /** The host had started this generation before the activity arrived (training/host-prefetch.ts). */
  ranAhead?: boolean;
}

export interface RewardInput {
  runDir: string;
  step: number;
  maxTokens: number;
  /** Every rollout shard of this step so far. */
  rolloutRefs: FileRef[];
}

/** The step statistics the reward computes: the corresponding fields of a metrics.jsonl line, plus the
 * dynamic-sampling verdict. */
export type RewardStats = Pick<
  StepMetrics,
  | 'rewardMean'
  | 'accuracy'
  | 'meanLength'
  | 'medianLength'
  | 'p90Length'
  | 'meanLengthCorrect'
  | 'meanLengthIncorrect'
  | 'truncationRate'
  | 'keywordsPer1k'
  | 'keptGroups'
  | 'droppedGroups'
> & {
  /** Dynamic sampling: kept groups are fewer than batchPrompts. */
  needMore: boolean;
};

export interface RewardResult {
  batchRef: FileRef;
  stats: RewardStats;
  wallMs: number;
}

export interface UpdateInput {
  runId: string;
  runDir: string;
  step: number;
  /** Checkpoint t−1 (completed updates = step). */
  checkpoint: CheckpointRef;
  batchRef: FileRef;
  /** Name to give checkpoint t, e.g. Iter1-Compressed. */
  checkpointName?: string;
  /**
   * Set when the next thing the run does is step t+1's first rollout batch with this budget: the host
   * starts generating it as soon as checkpoint t is written (training/rollout-prefetch.ts).
   */
  prefetchRollout?: { maxTokens: number };
}

/** Training statistics of one update (all its mini-batches combined; siri/minibatches.ts). */
export type TrainStats = MiniBatchStats;

export interface UpdateResult {
  /** Checkpoint t (completed updates = step + 1). */
  checkpoint: CheckpointRef;
  stats: TrainStats;
  wallMs: number;
  /** The host had started this update before the activity arrived (training/host-prefetch.ts). */
  ranAhead?: boolean;
}

export interface EvaluateInput {
  runId: string;
  runDir: string;
  checkpoint: CheckpointRef;
  /** 0-based step after which the checkpoint was written (−1 for the base model). */
  step: number;
  name: string | null;
  /** As for `update`: step t+1's first rollout batch comes next; the host starts it after evaluating. */
  prefetchRollout?: { maxTokens: number };
}

export interface EvaluateResult {
  summary: EvalSummary;
  resultsRef: FileRef;
  wallMs: number;
}

/** runDir/state.json: where a run stands, for `siri status` and `siri resume`. */
export interface RunStateFile {
  runId: string;
  nextStep: number;
  totalSteps: number;
  checkpoint: CheckpointRef;
  /** Older good checkpoints still on disk, newest first (fallbacks if the newest is corrupt). */
  fallbacks: CheckpointRef[];
  /** Named checkpoints written so far. */
  named: Record<string, CheckpointRef>;
  status: 'running' | 'completed';
}

export interface RecordStepInput {
  runDir: string;
  metrics: StepMetrics;
  state: RunStateFile;
  /** Keep the newest N periodic checkpoints (plus named ones and every `keepEvery`-th). */
  keepLast: number;
  keepEvery: number;
  /** Epoch ms when the step's first activity started. */
  stepStartedAtMs: number;
}

export interface RecordWarningInput {
  runDir: string;
  step: number;
  message: string;
}

/** A `siri eval` job: one model, several problem sets, k samples per problem. The sampling settings
 * are the ones results.json records (EvalRunConfig). */
export type EvalJobInput = Pick<
  EvalRunConfig,
  'dataFiles' | 'problemField' | 'answerField' | 'samples' | 'temperature' | 'topP' | 'maxTokens'
> & {
  outDir: string;
  modelDir: string;
  template: TemplateName;
  seed: number;
  /** Problems per shard (one activity). */
  shardSize: number;
  device: 'cpu' | 'cuda';
  label: string | null;
};

export interface EvalShardInput {
  job: EvalJobInput;
  /** Index of the problem set in job.dataFiles. */
  dataset: number;
  from: number;
  to: number;
}

export interface EvalPlan {
  shards: EvalShardInput[];
  problems: number[];
  skipped: number[];
}
