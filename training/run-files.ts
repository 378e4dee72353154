// Paths and cached readers of a run directory's files (config.json, state.json, metrics.jsonl).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parseRunConfig, type RunConfig } from '../siri/config';
import type { RunStateFile } from '../workflows/activity-types';
import { sha256Bytes } from './files';

export const runPaths = (runDir: string) => ({
  config: join(runDir, 'config.json'),
  state: join(runDir, 'state.json'),
  metrics: join(runDir, 'metrics.jsonl'),
  warnings: join(runDir, 'warnings.jsonl'),
  rollout: (step: number, shard: number) =>
    join(runDir, 'rollouts', `step-${String(step).padStart(6, '0')}-shard-${shard}.json`),
  batch: (step: number) => join(runDir, 'batches', `step-${String(step).padStart(6, '0')}.json`),
  evalDir: (name: string) => join(runDir, 'evals', name),
});

/** The name of an evaluation's directory under evals/: the checkpoint's name, else step-NNNNNN. */
export const evalName = (checkpointName: string | null | undefined, step: number): string =>
  checkpointName ?? `step-${String(step).padStart(6, '0')}`;

const configCache = new Map<string, { mtimeMs: number; config: RunConfig }>();

/** The run's config.json (validated), re-read when the file changes (e.g. after `siri resume --config`). */
export function readRunConfig(runDir: string): RunConfig {
  const path = runPaths(runDir).config;
  if (!existsSync(path)) {
    throw ApplicationFailure.create({
      message: `${path} is missing; was the run prepared?`,
      type: 'InvalidRunInput',
      nonRetryable: true,
    });
  }
  const mtimeMs = statSync(path).mtimeMs;
  const cached = configCache.get(path);
  if (cached && cached.mtimeMs === mtimeMs) return cached.config;
  const config = parseRunConfig(JSON.parse(readFileSync(path, 'utf8')));
  configCache.set(path, { mtimeMs, config });
  return config;
}

const configShaCache = new Map<string, { mtimeMs: number; sha256: string }>();

/**
 * sha256 of the run's config.json as written: files a step produces (rollouts, checkpoint statistics)
 * record it, so work done under an earlier config (before `siri resume --config`) is never reused.
 */
export function runConfigSha256(runDir: string): string {
  const path = runPaths(runDir).config;
  const mtimeMs = statSync(path).mtimeMs;
  const cached = configShaCache.get(path);
  if (cached && cached.mtimeMs === mtimeMs) return cached.sha256;
  const sha256 = sha256Bytes(readFileSync(path));
  configShaCache.set(path, { mtimeMs, sha256 });
  return sha256;
}

export function readRunState(runDir: string): RunStateFile | null {
  const path = runPaths(runDir).state;
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as RunStateFile;
}
