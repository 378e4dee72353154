// A workflow for bench/orchestration.ts: n iterations of (one activity on another task queue, one local
// activity), the shape of a training step's dispatches with no work inside them.
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

interface NoopActivities {
  noop(x: number): Promise<number>;
}

const local = proxyLocalActivities<NoopActivities>({ startToCloseTimeout: '1 minute' });

export async function roundTrips(iterations: number, hostQueue: string): Promise<number> {
  const host = proxyActivities<NoopActivities>({ startToCloseTimeout: '1 minute', taskQueue: hostQueue });
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    sum += await host.noop(i);
    sum += await local.noop(i);
  }
  return sum;
}
