// siriTraining: a SIRI run as a durable workflow. Each step t: L = L(t) → rollout (G samples per prompt,
// max new tokens L) → reward (grade, length-capped reward, advantages, dynamic sampling) → update (one
// optimizer step, writes checkpoint t atomically) → evaluate (every K steps and at every named
// checkpoint) → record (metrics.jsonl, state.json, retention). History stays bounded: the workflow
// continues-as-new every `stepsPerExecution` steps (or when the server suggests it) carrying its state.
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { RunConfig } from '../siri/config';
import { iterationAt, maxTokensAt, namedCheckpoints, phaseAt } from '../siri/schedule';
import type { RewardResult, RolloutResult, RunStateFile, UpdateInput } from './activity-types';
import { failureType, PolicyHost, type HostTimeouts } from './host';
import {
  metricsQuery,
  pauseSignal,
  progressQuery,
  resumeSignal,
  setEvalEveryUpdate,
  type MetricsPoint,
  type TrainingProgress,
} from './messages';
import {
  SiriAccuracy,
  SiriIteration,
  SiriMaxTokens,
  SiriMeanLength,
  SiriPhase,
  SiriReward,
  SiriStep,
} from './search-attributes';
import type { CheckpointRef, EvalSummary, StepMetrics } from './types';

export interface TrainingOptions extends HostTimeouts {
  /** Continue-as-new after this many steps in one execution (history stays bounded). */
  stepsPerExecution: number;
  /** Evaluate the base model before step 0 (an experiment does it once, not per method). */
  evaluateBase: boolean;
}

export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = {
  stepsPerExecution: 100,
  evaluateBase: true,
  heartbeatTimeoutMs: 120_000,
  hostStartTimeoutMs: 300_000,
  maxAttempts: 5,
};

/** What carries over between executions (continue-as-new, `siri resume`). */
export interface TrainingState {
  nextStep: number;
  checkpoint: CheckpointRef;
  fallbacks: CheckpointRef[];
  named: Record<string, CheckpointRef>;
  evalEverySteps: number;
  paused: boolean;
  hostQueue: string | null;
  warnings: string[];
  recent: MetricsPoint[];
  baseEvaluated: boolean;
}

export interface TrainingInput {
  runId: string;
  /** Absolute path of the run directory. */
  runDir: string;
  /** Validated by the client (siri/config.ts). */
  config: RunConfig;
  options?: Partial<TrainingOptions>;
  /** Absent on a fresh run; present after continue-as-new and on resume. */
  state?: TrainingState;
  /** Set by `siri resume`: re-write config.json (it may have changed) before continuing. */
  resumed?: boolean;
}

export interface TrainingResult {
  runId: string;
  steps: number;
  finalCheckpoint: CheckpointRef;
  named: Record<string, CheckpointRef>;
  warnings: string[];
}

const MAX_RECENT = 200;
const MAX_WARNINGS = 20;

const shared = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['InvalidRunInput'],
  },
});

// CPU-light bookkeeping of every step runs as local activities in the workflow's own worker: no task
// queue round trip, which keeps the orchestration overhead per step small.
const local = proxyLocalActivities<typeof activities>({
  startToCloseTimeout: '30 minutes',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: ['InvalidRunInput'],
  },
});

export async function siriTraining(trainingInput: TrainingInput): Promise<TrainingResult> {
  let input = trainingInput;
  const { config, runId, runDir } = input;
  const options: TrainingOptions = { ...DEFAULT_TRAINING_OPTIONS, ...input.options };
  const host = new PolicyHost(options, input.state?.hostQueue ?? null);
  // Handlers are registered before the first await, so queries and updates sent right after the start
  // find them; the base checkpoint is filled in once prepareRun has made it.
  const state: TrainingState = input.state ?? freshState(config);
  let activity = 'preparing the run directory';

  setHandler(progressQuery, (): TrainingProgress => {
    const step = Math.min(state.nextStep, config.totalSteps - 1);
    return {
      runId,
      step: state.nextStep,
      totalSteps: config.totalSteps,
      iteration: iterationAt(config.schedule, step),
      phase: phaseAt(config.schedule, step),
      maxTokens: maxTokensAt(config.schedule, step),
      paused: state.paused,
      activity,
      evalEverySteps: state.evalEverySteps,
      checkpointStep: state.checkpoint.step,
      checkpointPath: state.checkpoint.path,
      hostQueue: host.queue,
      warnings: state.warnings,
    };
  });
  setHandler(metricsQuery, () => state.recent);
  setHandler(pauseSignal, () => void (state.paused = true));
  setHandler(resumeSignal, () => void (state.paused = false));
  setHandler(
    setEvalEveryUpdate,
    (everySteps: number) => {
      const previous = state.evalEverySteps;
      state.evalEverySteps = everySteps;
      return previous;
    },
    {
      validator: (everySteps: number) => {
        if (!Number.isInteger(everySteps) || everySteps < 1) {
          throw new Error(`setEvalEvery: everySteps must be a positive integer, got ${String(everySteps)}`);
        }
      },
    },
  );

  if (!input.state || input.resumed) {
    const prepared = await shared.prepareRun({ runId, runDir, config });
    if (!input.state) state.checkpoint = prepared.baseCheckpoint;
    input = { ...input, resumed: false };
  }

  const named = new Map(namedCheckpoints(config.schedule, config.totalSteps).map((n) => [n.step, n.name]));
  const warn = async (step: number, message: string): Promise<void> => {
    state.warnings = [...state.warnings, `step ${step}: ${message}`].slice(-MAX_WARNINGS);
    upsertMemo({ warnings: state.warnings });
    await shared.recordWarning({ runDir, step, message });
  };

  if (!state.baseEvaluated && options.evaluateBase) {
    activity = 'evaluating the base model';
    await host.run(
      'evaluate',
      { runId, runDir, checkpoint: state.checkpoint, step: -1, name: 'base' },
      'evaluate the base model',
    );
    state.baseEvaluated = true;
  }

  let stepsThisExecution = 0;
  while (state.nextStep < config.totalSteps) {
    if (state.paused) {
      activity = 'paused';
      await condition(() => !state.paused);
    }
    if (stepsThisExecution >= options.stepsPerExecution || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof siriTraining>({ ...input, state: { ...state, hostQueue: host.queue } });
    }
    const step = state.nextStep;
    try {
      await runStep(step);
    } catch (err) {
      if (failureType(err) !== 'CorruptCheckpoint') throw err;
      const fallback = state.fallbacks[0];
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      if (!fallback) throw err;
      await warn(
        step,
        `checkpoint ${state.checkpoint.path} is corrupt (${reason}); falling back to ${fallback.path}`,
      );
      state.checkpoint = fallback;
      state.fallbacks = state.fallbacks.slice(1);
      state.nextStep = fallback.step;
      continue;
    }
    stepsThisExecution++;
  }
  activity = 'done';
  return {
    runId,
    steps: state.nextStep,
    finalCheckpoint: state.checkpoint,
    named: state.named,
    warnings: state.warnings,
  };

  async function runStep(step: number): Promise<void> {
    const maxTokens = maxTokensAt(config.schedule, step);
    const phase = phaseAt(config.schedule, step);
    const iteration = iterationAt(config.schedule, step);
    const checkpointName = named.get(step);

    const isLast = step === config.totalSteps - 1;
    const evaluationDue = (): boolean =>
      Boolean(checkpointName) || (step + 1) % state.evalEverySteps === 0 || isLast;
    // The host runs ahead of this workflow when nothing else comes between two model activities
    // (training/host-prefetch.ts): step t's update right after its rollout, step t+1's rollout right
    // after checkpoint t. The workflow's own bookkeeping then overlaps with compute.
    const nextMaxTokens = isLast ? null : maxTokensAt(config.schedule, step + 1);
    const runAhead = (): Pick<UpdateInput, 'checkpointName' | 'prefetchRollout'> => ({
      ...(checkpointName ? { checkpointName } : {}),
      ...(nextMaxTokens !== null && !evaluationDue() && !state.paused
        ? { prefetchRollout: { maxTokens: nextMaxTokens } }
        : {}),
    });

    // Rollouts (more shards only under DAPO dynamic sampling, until the batch is full or the cap).
    const rollouts: RolloutResult[] = [];
    let reward: RewardResult | null = null;
    for (let shard = 0; ; shard++) {
      activity = `rollout step ${step} shard ${shard} (L=${maxTokens})`;
      rollouts.push(
        await host.run(
          'rollout',
          {
            runId,
            runDir,
            step,
            shard,
            maxTokens,
            checkpoint: state.checkpoint,
            ...(shard === 0 && !state.paused ? { prefetchUpdate: runAhead() } : {}),
          },
          `step ${step}: ${config.batchPrompts}×${config.groupSize} rollouts, L=${maxTokens} (${phase})`,
        ),
      );
      activity = `reward step ${step}`;
      reward = await local.reward({
        runDir,
        step,
        maxTokens,
        rolloutRefs: rollouts.map((r) => r.rolloutRef),
      });
      const canSampleMore =
        config.dynamicSampling.enabled && shard < config.dynamicSampling.maxExtraRolloutBatches;
      if (!reward.stats.needMore || !canSampleMore) break;
    }

    activity = `update step ${step}`;
    const update = await host.run(
      'update',
      {
        runId,
        runDir,
        step,
        checkpoint: state.checkpoint,
        batchRef: reward.batchRef,
        ...runAhead(),
      },
      `step ${step}: GRPO update → checkpoint ${step + 1}${checkpointName ? ` (${checkpointName})` : ''}`,
    );

    let evalSummary: EvalSummary | undefined;
    let evalMs = 0;
    if (evaluationDue()) {
      activity = `evaluate step ${step}${checkpointName ? ` (${checkpointName})` : ''}`;
      const result = await host.run(
        'evaluate',
        {
          runId,
          runDir,
          checkpoint: update.checkpoint,
          step,
          name: checkpointName ?? null,
          ...(nextMaxTokens !== null && !state.paused
            ? { prefetchRollout: { maxTokens: nextMaxTokens } }
            : {}),
        },
        `evaluate ${checkpointName ?? `step ${step}`}`,
      );
      evalSummary = result.summary;
      evalMs = result.wallMs;
    }

    const stats = reward.stats;
    const generatedTokens = rollouts.reduce((sum, r) => sum + r.generatedTokens, 0);
    const rolloutMs = rollouts.reduce((sum, r) => sum + r.wallMs, 0);
    const metrics: StepMetrics = {
      step,
      iteration,
      phase,
      maxTokens,
      rewardMean: stats.rewardMean,
      accuracy: stats.accuracy,
      meanLength: stats.meanLength,
      medianLength: stats.medianLength,
      p90Length: stats.p90Length,
      meanLengthCorrect: stats.meanLengthCorrect,
      meanLengthIncorrect: stats.meanLengthIncorrect,
      truncationRate: stats.truncationRate,
      keptGroups: stats.keptGroups,
      droppedGroups: stats.droppedGroups,
      ...update.stats,
      tokensPerSecond: rolloutMs > 0 ? (generatedTokens * 1000) / rolloutMs : 0,
      keywordsPer1k: stats.keywordsPer1k,
      wallMs: {
        rollout: rolloutMs,
        reward: reward.wallMs,
        update: update.wallMs,
        step: 0,
        ...(evalSummary ? { evaluate: evalMs } : {}),
      },
      ...(evalSummary ? { eval: evalSummary } : {}),
      ...(checkpointName ? { checkpointName } : {}),
      ranAhead: { rollout: rollouts[0]?.ranAhead ?? false, update: update.ranAhead ?? false },
    };

    const nextState: RunStateFile = {
      runId,
      nextStep: step + 1,
      totalSteps: config.totalSteps,
      checkpoint: update.checkpoint,
      fallbacks: [state.checkpoint, ...state.fallbacks].slice(0, config.checkpoint.keepLast),
      named: checkpointName ? { ...state.named, [checkpointName]: update.checkpoint } : state.named,
      status: step + 1 >= config.totalSteps ? 'completed' : 'running',
    };
    activity = `record step ${step}`;
    await local.recordStep({
      runDir,
      metrics,
      state: nextState,
      keepLast: config.checkpoint.keepLast,
      keepEvery: config.checkpoint.everySteps,
      stepStartedAtMs: rollouts[0]?.startedAtMs ?? 0,
    });

    state.checkpoint = nextState.checkpoint;
    state.fallbacks = nextState.fallbacks;
    state.named = nextState.named;
    state.nextStep = step + 1;
    state.recent = [
      ...state.recent,
      {
        step,
        maxTokens,
        phase,
        rewardMean: metrics.rewardMean,
        meanLength: metrics.meanLength,
        truncationRate: metrics.truncationRate,
        entropy: metrics.entropy,
        tokensPerSecond: metrics.tokensPerSecond,
        ...(evalSummary ? { evalPass1: evalSummary.meanPass1, evalMeanLength: evalSummary.meanLength } : {}),
        ...(checkpointName ? { checkpointName } : {}),
      },
    ].slice(-MAX_RECENT);
    upsertSearchAttributes([
      { key: SiriStep, value: step + 1 },
      { key: SiriIteration, value: iteration + 1 },
      { key: SiriPhase, value: phase },
      { key: SiriMaxTokens, value: maxTokens },
      { key: SiriReward, value: metrics.rewardMean },
      { key: SiriMeanLength, value: metrics.meanLength },
      ...(evalSummary ? [{ key: SiriAccuracy, value: evalSummary.meanPass1 }] : []),
    ]);
    log.info('step done', {
      step,
      maxTokens,
      phase,
      reward: metrics.rewardMean,
      meanLength: metrics.meanLength,
    });
  }
}

/** The state of a run that has not started: checkpoint 0 is set by prepareRun. */
function freshState(config: RunConfig): TrainingState {
  return {
    nextStep: 0,
    checkpoint: { path: '', sha256: '', bytes: 0, step: 0 },
    fallbacks: [],
    named: {},
    evalEverySteps: config.eval.everySteps,
    paused: false,
    hostQueue: null,
    warnings: [],
    recent: [],
    baseEvaluated: false,
  };
}
