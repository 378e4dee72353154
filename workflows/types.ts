// Records that cross the workflow/activity boundary and the files under a run directory.
// Pure types (workflow-safe). Large data never goes through Temporal: activities write files under the
// run directory and pass a FileRef (path + sha256) instead.

/** A file written atomically under a run directory, identified by path and content hash. */
export interface FileRef {
  /** Absolute path. */
  path: string;
  /** Hex sha256 of the file contents (for a directory: of its manifest.json). */
  sha256: string;
  bytes: number;
}

/** A checkpoint directory (Hugging Face format + optimizer/RNG state + manifest.json of checksums). */
export interface CheckpointRef extends FileRef {
  /** Training step after which it was written (0 = the base model). */
  step: number;
  /** e.g. "Iter1-Compressed"; absent for ordinary checkpoints. */
  name?: string;
}

/** Wall time of each activity of a step, in milliseconds. */
export interface StepWallTimes {
  rollout: number;
  reward: number;
  update: number;
  evaluate?: number;
  /** From the start of the step's first rollout to the recording of its metrics. */
  step: number;
  /** Epoch ms when the step's first rollout started (step-to-step gaps give the orchestration overhead). */
  startedAtMs?: number;
}

/** One line of a run's metrics.jsonl: everything measured at training step `step`. */
export interface StepMetrics {
  step: number;
  /** 0-based compression–expansion cycle index. */
  iteration: number;
  phase: 'compression' | 'expansion' | 'hold';
  /** L(t): max new tokens of this step's rollouts. */
  maxTokens: number;
  /** Mean length-capped reward over all samples of the step (= training accuracy under L(t)). */
  rewardMean: number;
  accuracy: number;
  meanLength: number;
  medianLength: number;
  p90Length: number;
  meanLengthCorrect: number | null;
  meanLengthIncorrect: number | null;
  truncationRate: number;
  /** Groups kept / dropped by DAPO dynamic sampling (all equal rewards). */
  keptGroups: number;
  droppedGroups: number;
  loss: number;
  clipFracLow: number;
  clipFracHigh: number;
  entropy: number;
  approxKl: number;
  gradNorm: number;
  /** Tokens trained on (response tokens). */
  tokens: number;
  /** Rollout tokens generated per second. */
  tokensPerSecond: number;
  /** Keyword occurrences per 1K tokens ("wait", ...), over all samples of the step. */
  keywordsPer1k: Record<string, number>;
  wallMs: StepWallTimes;
  /** Evaluation at this step, when one ran. */
  eval?: EvalSummary;
  /** Named checkpoint written after this step, if any. */
  checkpointName?: string;
  /** Whether the host had already started this step's rollout / update when the activity arrived. */
  ranAhead?: { rollout: boolean; update: boolean };
}

/** Per-dataset evaluation numbers (the same record in results.json and in training metrics). */
export interface DatasetEvalResult {
  name: string;
  file: string;
  problems: number;
  samplesPerProblem: number;
  /** Mean over samples, averaged over problems. */
  pass1: number;
  /** Unbiased pass@k (Chen et al. 2021) for the ks evaluated. */
  passAtK: Record<string, number>;
  meanLength: number;
  meanLengthCorrect: number | null;
  meanLengthIncorrect: number | null;
  truncationRate: number;
  keywordsPer1k: { correct: Record<string, number>; incorrect: Record<string, number> };
  meanEntropy: number | null;
  /** Lines skipped as malformed while loading. */
  skipped: number;
}

export interface EvalSummary {
  step: number | null;
  checkpointName: string | null;
  datasets: DatasetEvalResult[];
  /** Unweighted mean over datasets of pass1 and meanLength. */
  meanPass1: number;
  meanLength: number;
}
