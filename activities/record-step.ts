/**
 * recordStep: appends step t's line to runDir/metrics.jsonl, writes state.json, applies checkpoint
 * retention. Inputs: RecordStepInput. Output: none.
 * Idempotent on (runDir, step): metrics.jsonl is rewritten atomically with every line of an earlier
 * step kept and any line of step ≥ t replaced, so a retry (or a fallback that re-runs steps) never
 * duplicates a line. Runs on the shared queue. No heartbeat (milliseconds).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordStepInput, RecordWarningInput } from '../workflows/activity-types';
import type { StepMetrics } from '../workflows/types';
import { applyRetention } from '../training/checkpoints';
import { atomicWriteFile, atomicWriteJson } from '../training/files';
import { runPaths } from '../training/run-files';

export async function recordStep(input: RecordStepInput): Promise<void> {
  const paths = runPaths(input.runDir);
  const metrics: StepMetrics = {
    ...input.metrics,
    wallMs: {
      ...input.metrics.wallMs,
      step: input.stepStartedAtMs > 0 ? Date.now() - input.stepStartedAtMs : 0,
      startedAtMs: input.stepStartedAtMs,
    },
  };
  const earlier = existsSync(paths.metrics)
    ? readFileSync(paths.metrics, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .filter((line) => (JSON.parse(line) as StepMetrics).step < metrics.step)
    : [];
  atomicWriteFile(paths.metrics, [...earlier, JSON.stringify(metrics)].join('\n') + '\n');
  atomicWriteJson(paths.state, input.state);
  const protect = new Set([
    input.state.checkpoint.path,
    ...input.state.fallbacks.map((c) => c.path),
    ...Object.values(input.state.named).map((c) => c.path),
  ]);
  applyRetention(input.runDir, { keepLast: input.keepLast, keepEvery: input.keepEvery, protect });
  pruneStepFiles(input.runDir, metrics.step - input.keepLast);
}

/**
 * Rollout and batch files are large (token ids and log-probs of every sample); only the steps that a
 * fallback could re-run are kept: those at or after `fromStep`.
 */
function pruneStepFiles(runDir: string, fromStep: number): void {
  for (const sub of ['rollouts', 'batches']) {
    const dir = join(runDir, sub);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const step = /^step-(\d{6})/.exec(name);
      if (step && Number(step[1]) < fromStep) rmSync(join(dir, name), { force: true });
    }
  }
}

/**
 * recordWarning: appends a warning (e.g. a corrupt checkpoint and the fallback chosen) to
 * runDir/warnings.jsonl; the workflow also keeps it in its memo. Idempotent enough: a retry may add the
 * same line twice, which is harmless for a log.
 */
export async function recordWarning(input: RecordWarningInput): Promise<void> {
  const path = runPaths(input.runDir).warnings;
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  atomicWriteFile(
    path,
    previous +
      JSON.stringify({ step: input.step, message: input.message, at: new Date().toISOString() }) +
      '\n',
  );
}
