// PPO mini-batches: one rollout batch is trained as several optimizer steps, each on a contiguous run of
// whole groups, all against the log-probs of the policy that generated the rollouts. Only then does the
// clipped surrogate (DAPO's decoupled clip) act: on the first mini-batch the ratio r = π_θ / π_old is 1.
// DAPO's recipe trains 16 mini-batches per rollout step. Pure: importable by workflows.

/** A mini-batch: sequences [start, end) of the batch, made of `groups` whole groups. */
export interface MiniBatchRange {
  start: number;
  end: number;
  groups: number;
}

/**
 * Splits a batch whose groups have the given sizes (in batch order) into at most `miniBatches` contiguous
 * mini-batches of whole groups, as even in groups as possible: with n groups and m = min(miniBatches, n)
 * mini-batches, the first n mod m get ⌈n/m⌉ groups and the rest ⌊n/m⌋. Empty groups are kept in place
 * (they add no sequences). An empty batch gives no mini-batches.
 */
export function miniBatchRanges(groupSizes: readonly number[], miniBatches: number): MiniBatchRange[] {
  if (!Number.isInteger(miniBatches) || miniBatches < 1) {
    throw new RangeError(`miniBatches must be a positive integer, got ${miniBatches}`);
  }
  groupSizes.forEach((size, i) => {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(`groupSizes[${i}] = ${size} must be a non-negative integer`);
    }
  });
  const groupCount = groupSizes.length;
  if (groupCount === 0) return [];
  const count = Math.min(miniBatches, groupCount);
  const base = Math.floor(groupCount / count);
  const larger = groupCount % count;
  const ranges: MiniBatchRange[] = [];
  let group = 0;
  let sequence = 0;
  for (let m = 0; m < count; m++) {
    const groups = base + (m < larger ? 1 : 0);
    const start = sequence;
    for (let g = 0; g < groups; g++) sequence += groupSizes[group + g] ?? 0;
    group += groups;
    ranges.push({ start, end: sequence, groups });
  }
  return ranges;
}

/**
 * Group sizes of a batch of `sequenceCount` sequences written without them (batch files from before
 * mini-batches): groups of `groupSize` when it divides the count, else one group per sequence.
 */
export function inferredGroupSizes(sequenceCount: number, groupSize: number): number[] {
  if (groupSize > 0 && sequenceCount % groupSize === 0) {
    return Array.from({ length: sequenceCount / groupSize }, () => groupSize);
  }
  return Array.from({ length: sequenceCount }, () => 1);
}

/** Per-mini-batch statistics of one optimizer step, as the engine reports them. */
export interface MiniBatchStats {
  loss: number;
  clipFracLow: number;
  clipFracHigh: number;
  approxKl: number;
  entropy: number;
  gradNorm: number;
  tokens: number;
  microBatches: number;
}

/**
 * The statistics of a whole update from its mini-batches: loss, clip fractions, approx. KL and entropy as
 * means weighted by each mini-batch's response tokens (the token-level average over the rollout batch),
 * the gradient norm as the plain mean of the per-step norms (each before clipping), tokens and
 * micro-batches summed. Only these fields: the engine's result also carries e.g. its optimizer step count,
 * which must not stand in for the training step in the metrics.
 */
export function combineMiniBatchStats(parts: readonly MiniBatchStats[]): MiniBatchStats {
  if (parts.length === 0) throw new RangeError('no mini-batch statistics to combine');
  const tokens = parts.reduce((s, p) => s + p.tokens, 0);
  // Weighted by response tokens; a plain mean when no part has any.
  const weighted = (pick: (p: MiniBatchStats) => number): number =>
    tokens > 0
      ? parts.reduce((s, p) => s + pick(p) * p.tokens, 0) / tokens
      : parts.reduce((s, p) => s + pick(p), 0) / parts.length;
  return {
    loss: weighted((p) => p.loss),
    clipFracLow: weighted((p) => p.clipFracLow),
    clipFracHigh: weighted((p) => p.clipFracHigh),
    approxKl: weighted((p) => p.approxKl),
    entropy: weighted((p) => p.entropy),
    gradNorm: parts.reduce((s, p) => s + p.gradNorm, 0) / parts.length,
    tokens,
    microBatches: parts.reduce((s, p) => s + p.microBatches, 0),
  };
}
