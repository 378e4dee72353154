// Work a host worker starts ahead of the workflow: while the workflow handles one activity's result
// (workflow task, reward, bookkeeping, dispatch: tens of milliseconds per hop), the host already runs what
// the workflow said would come next — step t's update right after its rollout, step t+1's rollout right
// after checkpoint t. The activity that arrives later adopts the job in flight instead of starting its
// own. Only an optimisation: a job computes exactly what the activity would (same inputs, same seeds,
// same weights) and writes it the same atomic way; if this process dies, the activity on another worker
// just does the work itself. SIRI_HOST_RUN_AHEAD=0 in a worker's environment turns it off.

/** A job in flight; `progress` is what the adopting activity heartbeats. */
export interface HostJob<T> {
  progress: object;
  result: Promise<T>;
}

const jobs = new Map<string, HostJob<unknown>>();
const MAX_JOBS = 4;

/** Starts `run` in the background under `key` (a no-op when a job with that key exists). */
export function startHostJob<T>(key: string, run: (report: (progress: object) => void) => Promise<T>): void {
  if (process.env.SIRI_HOST_RUN_AHEAD === '0' || jobs.has(key)) return;
  const job: HostJob<T> = { progress: { phase: 'queued' }, result: Promise.resolve(undefined as T) };
  job.result = run((progress) => (job.progress = progress));
  job.result.catch(() => undefined); // the adopting activity observes the failure
  // A run that moved to another worker must not pin old results here.
  for (const old of [...jobs.keys()].slice(0, Math.max(0, jobs.size + 1 - MAX_JOBS))) jobs.delete(old);
  jobs.set(key, job);
}

/** The job started under exactly `key`, if any; it is removed from the table. */
export function adoptHostJob<T>(key: string): HostJob<T> | undefined {
  const job = jobs.get(key) as HostJob<T> | undefined;
  jobs.delete(key);
  return job;
}
