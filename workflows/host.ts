// Pins a run's policy to one worker (the worker-specific task queue pattern): `acquireHost` runs on the
// shared queue and returns the queue of whichever worker picked it up; model activities then go there.
// When that worker dies (heartbeat or schedule-to-start timeout), the run moves to another worker, which
// loads the latest checkpoint. Other failures retry on the same host; non-retryable ones propagate.
import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  sleep,
  TimeoutFailure,
  log,
  type ActivityOptions,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { HostLease } from './activity-types';

export interface HostTimeouts {
  /** A host activity that sends no heartbeat for this long is considered dead. */
  heartbeatTimeoutMs: number;
  /** A host activity not picked up within this long means the host worker is gone. */
  hostStartTimeoutMs: number;
  /** Attempts per activity (across hosts) before the run fails. */
  maxAttempts: number;
}

/** Error types that must not be retried: the run stops and says why. */
export const NON_RETRYABLE_TYPES = ['NonFiniteLoss', 'CorruptCheckpoint', 'InvalidRunInput'] as const;

const { acquireHost } = proxyActivities<typeof activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

type HostActivityName = 'rollout' | 'update' | 'evaluate';

export class PolicyHost {
  private lease: HostLease | null = null;

  constructor(
    private readonly timeouts: HostTimeouts,
    initialQueue: string | null,
  ) {
    if (initialQueue) this.lease = { hostQueue: initialQueue, host: 'unknown', pid: 0 };
  }

  get queue(): string | null {
    return this.lease?.hostQueue ?? null;
  }

  private async ensureLease(): Promise<HostLease> {
    if (!this.lease) {
      this.lease = await acquireHost();
      log.info('policy host acquired', { ...this.lease });
    }
    return this.lease;
  }

  private options(queue: string, summary: string): ActivityOptions {
    return {
      taskQueue: queue,
      startToCloseTimeout: '7 days',
      heartbeatTimeout: this.timeouts.heartbeatTimeoutMs,
      scheduleToStartTimeout: this.timeouts.hostStartTimeoutMs,
      // Retries are decided here (a dead host means another queue), not by the server.
      retry: { maximumAttempts: 1 },
      summary,
    };
  }

  /** Runs a model activity on the run's host, moving to another worker if the host dies. */
  async run<K extends HostActivityName>(
    name: K,
    input: Parameters<(typeof activities)[K]>[0],
    summary: string,
  ): Promise<Awaited<ReturnType<(typeof activities)[K]>>> {
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= this.timeouts.maxAttempts; attempt++) {
      const lease = await this.ensureLease();
      const proxy = proxyActivities<typeof activities>(this.options(lease.hostQueue, summary));
      try {
        const call = proxy[name] as (
          arg: typeof input,
        ) => Promise<Awaited<ReturnType<(typeof activities)[K]>>>;
        return await call(input);
      } catch (err) {
        lastError = err;
        if (!(err instanceof ActivityFailure)) throw err;
        const cause = err.cause;
        if (cause instanceof ApplicationFailure && (cause.nonRetryable || isNonRetryable(cause.type)))
          throw err;
        if (cause instanceof TimeoutFailure) {
          log.warn(
            `${name}: host ${lease.hostQueue} timed out (${cause.timeoutType}); moving the run to another worker`,
            {
              attempt,
            },
          );
          this.lease = null;
        } else {
          log.warn(`${name} failed on attempt ${attempt}; retrying`, {
            error: String(cause?.message ?? err.message),
          });
          await sleep(Math.min(1000 * 2 ** (attempt - 1), 30_000));
        }
      }
    }
    throw lastError instanceof Error
      ? lastError
      : new Error(`${name} failed after ${this.timeouts.maxAttempts} attempts`);
  }
}

function isNonRetryable(type: string | undefined | null): boolean {
  return (NON_RETRYABLE_TYPES as readonly string[]).includes(type ?? '');
}

/** The ApplicationFailure type at the root of an activity failure, if any. */
export function failureType(err: unknown): string | null {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? null;
  return null;
}
