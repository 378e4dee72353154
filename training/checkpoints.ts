// The checkpoints of a run: runDir/checkpoints/ckpt-NNNNNN, NNNNNN = completed updates (000000 = the base
// model). Writing and verifying a checkpoint directory (temp dir, fsync, rename, manifest of sha256) is
// the engine's job (native/checkpoint.ts); this module adds what a run needs on top: refs that pin the
// exact manifest, the CorruptCheckpoint failure the workflow answers with a fallback, and retention.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import {
  CheckpointError,
  MANIFEST_FILE,
  leftoverSaveDirs,
  verifyCheckpoint as verifyDir,
} from '../native/checkpoint';
import type { CheckpointRef } from '../workflows/types';
import { sha256Bytes } from './files';

export function checkpointsDir(runDir: string): string {
  return join(runDir, 'checkpoints');
}

export function checkpointDir(runDir: string, completedSteps: number): string {
  return join(checkpointsDir(runDir), `ckpt-${String(completedSteps).padStart(6, '0')}`);
}

/** Training statistics of the update that produced checkpoint N, written before the checkpoint itself. */
export function checkpointStatsPath(runDir: string, completedSteps: number): string {
  return `${checkpointDir(runDir, completedSteps)}.stats.json`;
}

/** A non-retryable failure the workflow answers by falling back to an older checkpoint. */
export function corruptCheckpoint(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'CorruptCheckpoint', nonRetryable: true });
}

/** The ref of a saved checkpoint directory: its manifest's hash pins every file. */
export function checkpointRef(dir: string, step: number, name?: string): CheckpointRef {
  const manifest = readFileSync(join(dir, MANIFEST_FILE));
  return {
    path: dir,
    sha256: sha256Bytes(manifest),
    bytes: manifest.length,
    step,
    ...(name ? { name } : {}),
  };
}

/**
 * Verifies a checkpoint against its ref (the manifest hash) and its manifest (every file's size and
 * sha256). Throws a CorruptCheckpoint failure naming the bad file.
 */
export async function verifyCheckpointRef(ref: CheckpointRef): Promise<void> {
  const manifestPath = join(ref.path, MANIFEST_FILE);
  if (!existsSync(manifestPath))
    throw corruptCheckpoint(`checkpoint ${ref.path} is incomplete: ${MANIFEST_FILE} is missing`);
  if (sha256Bytes(readFileSync(manifestPath)) !== ref.sha256) {
    throw corruptCheckpoint(
      `checkpoint ${ref.path}: ${MANIFEST_FILE} differs from the one recorded when it was written`,
    );
  }
  try {
    await verifyDir(ref.path);
  } catch (err) {
    if (err instanceof CheckpointError) throw corruptCheckpoint(err.message);
    throw err;
  }
}

/** The verified ref of checkpoint N if it exists and is complete, else null. */
export async function completeCheckpoint(
  runDir: string,
  step: number,
  name?: string,
): Promise<CheckpointRef | null> {
  const dir = checkpointDir(runDir, step);
  if (!existsSync(join(dir, MANIFEST_FILE))) return null;
  const ref = checkpointRef(dir, step, name);
  try {
    await verifyCheckpointRef(ref);
    return ref;
  } catch {
    return null;
  }
}

/** Removes temp/old directories left by saves that crashed. */
export async function removeStaleTemps(runDir: string): Promise<void> {
  const dir = checkpointsDir(runDir);
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    if (!/^ckpt-\d{6}$/.test(entry)) continue;
    for (const leftover of await leftoverSaveDirs(join(dir, entry)))
      rmSync(leftover, { recursive: true, force: true });
  }
  for (const entry of readdirSync(dir)) {
    if (/^\.ckpt-\d{6}\.(tmp|old)-/.test(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/**
 * Retention: keeps the newest `keepLast` checkpoints, the base, every `keepEvery`-th and any path in
 * `protect` (the current one, the fallbacks, the named IterK checkpoints); deletes the rest.
 */
export function applyRetention(
  runDir: string,
  options: { keepLast: number; keepEvery: number; protect: Set<string> },
): string[] {
  const dir = checkpointsDir(runDir);
  if (!existsSync(dir)) return [];
  const steps = readdirSync(dir)
    .map((e) => /^ckpt-(\d{6})$/.exec(e))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  const removed: string[] = [];
  steps.forEach((step, rank) => {
    const path = checkpointDir(runDir, step);
    const keep =
      rank < options.keepLast || step === 0 || step % options.keepEvery === 0 || options.protect.has(path);
    if (!keep) {
      rmSync(path, { recursive: true, force: true });
      rmSync(checkpointStatsPath(runDir, step), { force: true });
      removed.push(path);
    }
  });
  return removed;
}
