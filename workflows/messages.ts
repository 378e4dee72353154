// Queries, signals and updates of the training workflow. The client imports these definitions too, so
// the names live in exactly one place.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { StepMetrics } from './types';

export interface TrainingProgress {
  runId: string;
  /** Next 0-based step to run (= completed steps). */
  step: number;
  totalSteps: number;
  iteration: number;
  phase: 'compression' | 'expansion' | 'hold';
  maxTokens: number;
  paused: boolean;
  /** What the workflow is doing now, e.g. "rollout step 12". */
  activity: string;
  evalEverySteps: number;
  /** The latest good checkpoint: completed updates and path. */
  checkpointStep: number;
  checkpointPath: string;
  /** Worker task queue that holds the policy. */
  hostQueue: string | null;
  warnings: string[];
}

/** A compact per-step record kept in workflow state for the `metrics` query (bounded length). */
export type MetricsPoint = Pick<
  StepMetrics,
  | 'step'
  | 'maxTokens'
  | 'phase'
  | 'rewardMean'
  | 'meanLength'
  | 'truncationRate'
  | 'entropy'
  | 'tokensPerSecond'
> & { evalPass1?: number; evalMeanLength?: number; checkpointName?: string };

export const progressQuery = defineQuery<TrainingProgress>('progress');
export const metricsQuery = defineQuery<MetricsPoint[]>('metrics');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Changes how often evaluation runs (every N steps; named checkpoints are always evaluated). */
export const setEvalEveryUpdate = defineUpdate<number, [number]>('setEvalEvery');
