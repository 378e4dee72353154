// The policy a worker holds in memory for one run: loaded from a verified checkpoint, reused while the
// run's checkpoint hash matches, reloaded from disk whenever it does not (another worker moved the run,
// an update was retried, a fallback checkpoint was chosen). One policy per worker process.
import { Policy, type ComputeDtype } from '../native';
import type { CheckpointRef } from '../workflows/types';
import { verifyCheckpointRef } from './checkpoints';

interface HeldPolicy {
  runId: string;
  computeDtype: ComputeDtype;
  /** sha256 of the checkpoint manifest the in-memory weights equal; null after an unsaved update. */
  checkpointSha: string | null;
  policy: Policy;
}

let held: HeldPolicy | null = null;
let queue: Promise<unknown> = Promise.resolve();

/**
 * Serialises use of the held policy: one model activity at a time per worker. `whileWaiting` is called every
 * `intervalMs` until `fn` starts: an activity queued behind other work on this worker (another run's
 * rollout, update or evaluation, or work run ahead) is alive while it waits and must heartbeat, or its
 * heartbeat timeout declares the worker dead and moves the run.
 */
export function withPolicyLock<T>(
  fn: () => Promise<T>,
  whileWaiting?: () => void,
  intervalMs = 1000,
): Promise<T> {
  let timer: ReturnType<typeof setInterval> | undefined =
    whileWaiting === undefined ? undefined : setInterval(whileWaiting, intervalMs);
  const start = (): Promise<T> => {
    clearInterval(timer);
    timer = undefined;
    return fn();
  };
  const run = queue.then(start, start);
  queue = run.catch(() => undefined);
  return run;
}

/** The policy at `checkpoint` for `runId`, loading (after verification) when memory holds anything else. */
export async function policyAt(
  runId: string,
  checkpoint: CheckpointRef,
  device: 'cpu' | 'cuda',
  options: { plainModelDir?: boolean; computeDtype?: ComputeDtype } = {},
): Promise<Policy> {
  const computeDtype = options.computeDtype ?? 'float32';
  if (
    held &&
    held.runId === runId &&
    held.checkpointSha === checkpoint.sha256 &&
    held.computeDtype === computeDtype
  ) {
    return held.policy;
  }
  // A run's checkpoints are pinned by their manifest hash; a plain Hugging Face directory (siri eval of a
  // downloaded model) has no manifest, and Policy.load checks what it can.
  if (!options.plainModelDir) await verifyCheckpointRef(checkpoint);
  releasePolicy();
  const policy = await Policy.load(checkpoint.path, { device, computeDtype });
  held = { runId, checkpointSha: checkpoint.sha256, computeDtype, policy };
  return policy;
}

/** The in-memory weights changed (trainStep) and are not on disk yet. */
export function markUnsaved(): void {
  if (held) held.checkpointSha = null;
}

/** The in-memory weights now equal `checkpoint`. */
export function markSaved(runId: string, checkpoint: CheckpointRef): void {
  if (held && held.runId === runId) held.checkpointSha = checkpoint.sha256;
}

export function releasePolicy(): void {
  if (held) {
    held.policy.dispose();
    held = null;
  }
}
