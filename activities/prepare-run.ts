/**
 * prepareRun: creates the run directory, writes config.json, and makes checkpoint 0 from the base model
 * (hard links where possible, plus a manifest). Inputs: PrepareRunInput. Output: PrepareRunResult.
 * Idempotent on runDir: an existing, valid checkpoint 0 is reused; config.json is rewritten (a resumed run
 * may change it; the previous one is kept as config.<n>.json). No heartbeat (seconds at most).
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { parseRunConfig } from '../siri/config';
import type { PrepareRunInput, PrepareRunResult } from '../workflows/activity-types';
import { saveCheckpointAtomically } from '../native/checkpoint';
import { checkpointDir, checkpointRef, completeCheckpoint, removeStaleTemps } from '../training/checkpoints';
import { atomicWriteJson, fileRef } from '../training/files';
import { runPaths } from '../training/run-files';

export async function prepareRun(input: PrepareRunInput): Promise<PrepareRunResult> {
  const config = parseRunConfig(input.config);
  if (!existsSync(join(config.modelDir, 'config.json'))) {
    throw ApplicationFailure.create({
      message: `modelDir ${config.modelDir} has no config.json`,
      type: 'InvalidRunInput',
      nonRetryable: true,
    });
  }
  mkdirSync(input.runDir, { recursive: true });
  await removeStaleTemps(input.runDir);
  const paths = runPaths(input.runDir);
  if (
    existsSync(paths.config) &&
    readFileSync(paths.config, 'utf8') !== JSON.stringify(config, null, 2) + '\n'
  ) {
    const n = readdirSync(input.runDir).filter((f) => /^config\.\d+\.json$/.test(f)).length + 1;
    copyFileSync(paths.config, join(input.runDir, `config.${n}.json`));
  }
  atomicWriteJson(paths.config, config);
  const tokenizerDir = config.tokenizerDir ?? config.modelDir;
  let baseCheckpoint = await completeCheckpoint(input.runDir, 0, 'Base');
  if (!baseCheckpoint) {
    const dir = checkpointDir(input.runDir, 0);
    await saveCheckpointAtomically(dir, 0, async (tmp) => linkModelFiles(config.modelDir, tmp), tokenizerDir);
    baseCheckpoint = checkpointRef(dir, 0, 'Base');
  }
  return { baseCheckpoint, configRef: await fileRef(paths.config) };
}

/** Hard-links (or copies, across file systems) the base model's files into checkpoint 0. */
function linkModelFiles(modelDir: string, tmp: string): string[] {
  const names: string[] = [];
  for (const name of readdirSync(modelDir)) {
    const src = join(modelDir, name);
    if (!statSync(src).isFile() || name === 'manifest.json') continue;
    try {
      linkSync(src, join(tmp, name));
    } catch {
      copyFileSync(src, join(tmp, name));
    }
    names.push(name);
  }
  return names;
}
