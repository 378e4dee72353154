// healthCheck: the smallest end-to-end workflow — one activity on the worker that reports what the
// native engine sees. Used by `siri worker --check`, the demo's readiness check and the integration tests.
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities';

const { engineProbe } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});

export interface HealthReport {
  workflowOk: true;
  engine: Awaited<ReturnType<typeof activities.engineProbe>>;
}

export async function healthCheck(): Promise<HealthReport> {
  const engine = await engineProbe();
  return { workflowOk: true, engine };
}
