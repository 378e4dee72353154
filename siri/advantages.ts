// GRPO advantages (with the Dr. GRPO variant), their broadcast to tokens, and DAPO's dynamic-sampling
// filter. Pure functions over plain arrays so that workflow code can call them deterministically.

/** ε in the GRPO denominator (VeRL's default). */
export const GRPO_EPSILON = 1e-6;

export interface AdvantageOptions {
  /** Divide by the group's std (GRPO, default true). false = Dr. GRPO: A_i = R_i − mean(R). */
  normalizeStd?: boolean;
  epsilon?: number;
}

/**
 * Mean and std of one group's rewards, VeRL's GRPO convention: the unbiased std (divide by N − 1), and
 * a group of ONE sample gets mean 0 and std 1 (so its advantage is R / (1 + ε), not 0).
 */
export function groupMeanStd(rewards: readonly number[]): { mean: number; std: number } {
  const n = rewards.length;
  if (n === 0) throw new RangeError('a group needs at least one reward');
  if (n === 1) return { mean: 0, std: 1 };
  let sum = 0;
  for (const r of rewards) sum += r;
  const mean = sum / n;
  let squares = 0;
  for (const r of rewards) squares += (r - mean) * (r - mean);
  return { mean, std: Math.sqrt(squares / (n - 1)) };
}

/**
 * Advantages of the G samples of one prompt:
 *   GRPO:    A_i = (R_i − mean(R)) / (std(R) + ε)
 *   Dr.GRPO: A_i =  R_i − mean(R)
 */
export function grpoAdvantages(rewards: readonly number[], options: AdvantageOptions = {}): number[] {
  const { mean, std } = groupMeanStd(rewards);
  const normalize = options.normalizeStd ?? true;
  const eps = options.epsilon ?? GRPO_EPSILON;
  return rewards.map((r) => (normalize ? (r - mean) / (std + eps) : r - mean));
}

/**
 * Advantages for a flat batch where groupIds[i] names the prompt of sample i (samples of one prompt
 * need not be adjacent). Each sample is normalised within its own group.
 */
export function grpoAdvantagesByGroup(
  rewards: readonly number[],
  groupIds: readonly (string | number)[],
  options: AdvantageOptions = {},
): number[] {
  if (rewards.length !== groupIds.length) {
    throw new RangeError(`rewards (${rewards.length}) and groupIds (${groupIds.length}) differ in length`);
  }
  const members = new Map<string | number, number[]>();
  groupIds.forEach((id, i) => {
    const list = members.get(id);
    if (list) list.push(i);
    else members.set(id, [i]);
  });
  const out = new Array<number>(rewards.length).fill(0);
  for (const indices of members.values()) {
    const adv = grpoAdvantages(
      indices.map((i) => rewards[i] ?? 0),
      options,
    );
    indices.forEach((sampleIndex, k) => (out[sampleIndex] = adv[k] ?? 0));
  }
  return out;
}

/** Every token of a response gets its sample's advantage: one array of `lengths[i]` copies per sample. */
export function broadcastToTokens(advantages: readonly number[], lengths: readonly number[]): number[][] {
  if (advantages.length !== lengths.length) {
    throw new RangeError(
      `advantages (${advantages.length}) and lengths (${lengths.length}) differ in length`,
    );
  }
  return advantages.map((a, i) => new Array<number>(lengths[i] ?? 0).fill(a));
}

/**
 * The same broadcast as a right-padded row-major [samples × width] matrix plus a 0/1 mask of the real
 * response tokens, the layout the trainer's tensors use. Lengths above width are an error.
 */
export function broadcastToTokensPadded(
  advantages: readonly number[],
  lengths: readonly number[],
  width: number,
): { values: Float32Array; mask: Uint8Array } {
  if (advantages.length !== lengths.length) {
    throw new RangeError(
      `advantages (${advantages.length}) and lengths (${lengths.length}) differ in length`,
    );
  }
  const values = new Float32Array(advantages.length * width);
  const mask = new Uint8Array(advantages.length * width);
  advantages.forEach((a, row) => {
    const len = lengths[row] ?? 0;
    if (len > width) throw new RangeError(`response ${row} has ${len} tokens, more than width ${width}`);
    values.fill(a, row * width, row * width + len);
    mask.fill(1, row * width, row * width + len);
  });
  return { values, mask };
}

// ---------------------------------------------------------------------------------------------------
// DAPO dynamic sampling: a group whose rewards are all equal has zero advantage everywhere (no gradient),
// so it is dropped and more prompts are sampled until the batch is full or the cap on extra rollout
// batches is reached.

/** True when every reward of the group is the same value (this includes a group of one sample). */
export function isUniformGroup(rewards: readonly number[]): boolean {
  return rewards.every((r) => r === rewards[0]);
}

export interface GroupFilterCounts {
  kept: number;
  dropped: number;
  /** Dropped groups where every sample had reward 1. */
  droppedAllCorrect: number;
  /** Dropped groups where every sample had reward 0. */
  droppedAllIncorrect: number;
}

/** Splits groups into informative (kept, in order) and uniform (dropped) ones, with counts. */
export function filterInformativeGroups<G extends { rewards: readonly number[] }>(
  groups: readonly G[],
): { kept: G[]; counts: GroupFilterCounts } {
  const kept: G[] = [];
  const counts: GroupFilterCounts = { kept: 0, dropped: 0, droppedAllCorrect: 0, droppedAllIncorrect: 0 };
  for (const g of groups) {
    if (!isUniformGroup(g.rewards)) {
      kept.push(g);
      counts.kept++;
      continue;
    }
    counts.dropped++;
    if (g.rewards[0] === 1) counts.droppedAllCorrect++;
    if (g.rewards[0] === 0) counts.droppedAllIncorrect++;
  }
  return { kept, counts };
}

export interface DynamicSamplingConfig {
  enabled: boolean;
  /** Groups (prompts) the training batch needs. */
  batchPrompts: number;
  /** Rollout batches allowed beyond the first one before training on what was kept. */
  maxExtraRolloutBatches: number;
}

/** The running state of one step's sampling; plain data so a workflow can keep it in its state. */
export interface DynamicSamplingState<G> {
  kept: G[];
  rolloutBatches: number;
  sampledGroups: number;
  droppedGroups: number;
  droppedAllCorrect: number;
  droppedAllIncorrect: number;
}

/**
 * - `full`: enough groups kept; `batch` holds exactly batchPrompts of them (the rest is `overflowGroups`).
 * - `need-more`: sample another rollout batch and call addRolloutBatch again.
 * - `cap-reached`: the extra-batch cap is spent; `batch` holds every kept group (possibly fewer than
 *   batchPrompts, possibly none — then the caller skips the update).
 */
export type DynamicSamplingStatus = 'full' | 'need-more' | 'cap-reached';

export function startDynamicSampling<G>(): DynamicSamplingState<G> {
  return {
    kept: [],
    rolloutBatches: 0,
    sampledGroups: 0,
    droppedGroups: 0,
    droppedAllCorrect: 0,
    droppedAllIncorrect: 0,
  };
}

/**
 * Folds one rollout batch into the state and says what to do next. With `enabled: false` nothing is
 * dropped and the first batch is the training batch (trimmed to batchPrompts).
 */
export function addRolloutBatch<G extends { rewards: readonly number[] }>(
  state: DynamicSamplingState<G>,
  groups: readonly G[],
  config: DynamicSamplingConfig,
): { state: DynamicSamplingState<G>; status: DynamicSamplingStatus; batch: G[]; overflowGroups: number } {
  const filtered = config.enabled
    ? filterInformativeGroups(groups)
    : {
        kept: [...groups],
        counts: { kept: groups.length, dropped: 0, droppedAllCorrect: 0, droppedAllIncorrect: 0 },
      };
  const next: DynamicSamplingState<G> = {
    kept: [...state.kept, ...filtered.kept],
    rolloutBatches: state.rolloutBatches + 1,
    sampledGroups: state.sampledGroups + groups.length,
    droppedGroups: state.droppedGroups + filtered.counts.dropped,
    droppedAllCorrect: state.droppedAllCorrect + filtered.counts.droppedAllCorrect,
    droppedAllIncorrect: state.droppedAllIncorrect + filtered.counts.droppedAllIncorrect,
  };
  if (!config.enabled || next.kept.length >= config.batchPrompts) {
    const batch = next.kept.slice(0, config.batchPrompts);
    return { state: next, status: 'full', batch, overflowGroups: next.kept.length - batch.length };
  }
  if (next.rolloutBatches >= 1 + config.maxExtraRolloutBatches) {
    return { state: next, status: 'cap-reached', batch: [...next.kept], overflowGroups: 0 };
  }
  return { state: next, status: 'need-more', batch: [], overflowGroups: 0 };
}
