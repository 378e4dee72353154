// siriEval: evaluates one model on problem sets as a durable workflow sharded over problems, so a
// 500-problem × 64-sample evaluation survives crashes (finished shards are files and are never redone)
// and spreads over every worker polling the shared queue. Aggregation writes results.json/.md and the
// compressed samples once every shard is in.
import { proxyActivities, setHandler, defineQuery } from '@temporalio/workflow';
import type * as activities from '../activities';
import type { EvalShardInput, EvalJobInput } from './activity-types';
import type { EvalSummary } from './types';

export interface EvalProgress {
  shardsDone: number;
  shards: number;
}

export const evalProgressQuery = defineQuery<EvalProgress>('evalProgress');

const { planEval, aggregateEvalShards } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 hour',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['InvalidRunInput'] },
});
const { evalShard } = proxyActivities<typeof activities>({
  startToCloseTimeout: '7 days',
  heartbeatTimeout: '2 minutes',
  retry: { maximumAttempts: 10, initialInterval: '2 seconds', nonRetryableErrorTypes: ['InvalidRunInput'] },
});

export async function siriEval(input: EvalJobInput): Promise<EvalSummary> {
  const plan = await planEval(input);
  const progress: EvalProgress = { shardsDone: 0, shards: plan.shards.length };
  setHandler(evalProgressQuery, () => progress);
  await Promise.all(
    plan.shards.map(async (shard: EvalShardInput) => {
      await evalShard(shard);
      progress.shardsDone++;
    }),
  );
  return aggregateEvalShards(input);
}
