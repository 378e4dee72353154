// The length-capped reward of SIRI: R = 1 iff an answer can be extracted from the response clipped to
// L tokens and the grader says it matches the ground truth, else 0. A response cut at L without a final
// answer scores 0. The grader and the tokenizer are injected (this module must not depend on grader/ or
// on any I/O), so workflow code can import it.

/** What a grader says about one response text: is it correct, and which answer did it extract. */
export interface GradeResult {
  correct: boolean;
  /** The answer extracted from the text, or null when none was found (e.g. no \boxed{} before the cut). */
  extracted: string | null;
  reason?: string;
}

/** Grades a response text against the gold answer (implemented in grader/, injected here). */
export type GradeFn = (responseText: string, gold: string) => GradeResult;

/** Turns generated token ids back into text (the tokenizer's decode, injected here). */
export type DecodeFn = (tokenIds: readonly number[]) => string;

/** Why generation stopped: `stop` = end-of-sequence/stop string, `length` = hit the max-new-tokens cap. */
export type FinishReason = 'stop' | 'length';

/** The per-sample record of the reward. */
export interface SampleReward {
  /** 1 when correct, else 0. */
  reward: 0 | 1;
  /** An answer was found in the clipped text and the grader accepted it. */
  correct: boolean;
  /** The response was cut by the length cap (generation stopped on `length`, or it ran past L). */
  truncated: boolean;
  /** Response length in tokens after clipping to L. */
  length: number;
  /** The grader extracted an answer from the clipped text. */
  answerFound: boolean;
  extracted: string | null;
  reason?: string;
}

export interface GeneratedResponse {
  tokenIds: readonly number[];
  finishReason: FinishReason;
}

/**
 * Clips a generated response to the cap L. It counts as truncated when generation stopped on the cap
 * or when it is longer than L (e.g. re-scoring a long response under a shorter cap). A response that
 * ends on its own with exactly L tokens is not truncated.
 */
export function clipToCap(
  response: GeneratedResponse,
  maxTokens: number,
): { tokenIds: readonly number[]; truncated: boolean } {
  if (!Number.isInteger(maxTokens) || maxTokens < 0) {
    throw new RangeError(`maxTokens must be a non-negative integer, got ${maxTokens}`);
  }
  const over = response.tokenIds.length > maxTokens;
  return {
    tokenIds: over ? response.tokenIds.slice(0, maxTokens) : response.tokenIds,
    truncated: over || response.finishReason === 'length',
  };
}

/** The reward from already-clipped text: `length` and `truncated` describe that clipped text. */
export function lengthCappedRewardFromText(
  clipped: { text: string; length: number; truncated: boolean },
  gold: string,
  grade: GradeFn,
): SampleReward {
  const verdict = grade(clipped.text, gold);
  const answerFound = verdict.extracted !== null;
  // R = 1 iff an answer is extracted from the clipped response AND the grader says it matches.
  const correct = answerFound && verdict.correct;
  const record: SampleReward = {
    reward: correct ? 1 : 0,
    correct,
    truncated: clipped.truncated,
    length: clipped.length,
    answerFound,
    extracted: verdict.extracted,
  };
  if (verdict.reason !== undefined) record.reason = verdict.reason;
  return record;
}

/** The reward from token ids: clip to L, decode, grade. */
export function lengthCappedReward(
  response: GeneratedResponse,
  gold: string,
  maxTokens: number,
  deps: { grade: GradeFn; decode: DecodeFn },
): SampleReward {
  const clipped = clipToCap(response, maxTokens);
  const text = deps.decode(clipped.tokenIds);
  return lengthCappedRewardFromText(
    { text, length: clipped.tokenIds.length, truncated: clipped.truncated },
    gold,
    deps.grade,
  );
}

export interface RewardSummary {
  samples: number;
  meanReward: number;
  truncationRate: number;
  answerFoundRate: number;
  meanLength: number;
}

/** Batch averages of the per-sample records (all zero for an empty batch). */
export function summarizeRewards(records: readonly SampleReward[]): RewardSummary {
  const n = records.length;
  if (n === 0) return { samples: 0, meanReward: 0, truncationRate: 0, answerFoundRate: 0, meanLength: 0 };
  let reward = 0;
  let truncated = 0;
  let found = 0;
  let length = 0;
  for (const r of records) {
    reward += r.reward;
    truncated += r.truncated ? 1 : 0;
    found += r.answerFound ? 1 : 0;
    length += r.length;
  }
  return {
    samples: n,
    meanReward: reward / n,
    truncationRate: truncated / n,
    answerFoundRate: found / n,
    meanLength: length / n,
  };
}
