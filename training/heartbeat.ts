// Heartbeats from inside long activities, throttled so a fast progress callback does not flood the server.
import { Context } from '@temporalio/activity';

/** Returns a progress callback that heartbeats `details(progress)` at most every `intervalMs`. */
export function throttledHeartbeat<P>(
  details: (progress: P) => unknown,
  intervalMs = 1000,
): (progress: P) => void {
  const context = Context.current();
  let last = 0;
  return (progress: P) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    context.heartbeat(details(progress));
  };
}

/** Heartbeats every `intervalMs` while `work` runs (for calls without a progress callback). */
export async function withHeartbeats<T>(
  details: () => unknown,
  work: Promise<T>,
  intervalMs = 1000,
): Promise<T> {
  const context = Context.current();
  context.heartbeat(details());
  const timer = setInterval(() => context.heartbeat(details()), intervalMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
