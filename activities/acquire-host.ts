/**
 * acquireHost: runs on the shared task queue and answers with the task queue of the worker that picked it
 * up; the workflow sends that run's model activities (rollout, update, evaluate) there, so the policy
 * stays in this worker's memory. Inputs: none. Output: HostLease. Idempotent (read-only). No heartbeat.
 */
import { hostname } from 'node:os';
import type { HostLease } from '../workflows/activity-types';

let hostQueue: string | null = null;

/** Called once by worker.ts with the queue of its host-specific worker. */
export function setHostQueue(queue: string): void {
  hostQueue = queue;
}

export async function acquireHost(): Promise<HostLease> {
  if (!hostQueue) throw new Error('this worker has no host task queue (it runs without the policy host)');
  return { hostQueue, host: hostname(), pid: process.pid };
}
