// Atomic, verifiable checkpoint directories around the native save: the engine writes its files into a
// temporary sibling directory, we add the tokenizer files and a manifest of sha256 checksums, fsync
// everything, and rename the directory into place (replacing an older checkpoint only after the new one is
// complete). Loading verifies the manifest first and names the missing or corrupt file.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'siri-checkpoint-manifest-v1';
/** Written by the engine into every checkpoint it saves (step, RNG state). */
export const ENGINE_STATE_FILE = 'siri_state.json';

/** Files of a Hugging Face model directory that travel with the weights (tokenizer, generation defaults). */
export const COMPANION_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
  'chat_template.jinja',
] as const;

export interface ManifestEntry {
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  createdAt: string;
  step: number;
  files: Record<string, ManifestEntry>;
}

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Saves a checkpoint atomically into `dir`: `writeFiles(tmpDir)` writes the engine's files (and returns
 * their names), companion files are copied from `companionSource` when present, a manifest with sha256 of
 * every file is written, everything is fsynced, and the temp directory is renamed to `dir`.
 */
export async function saveCheckpointAtomically(
  dir: string,
  step: number,
  writeFiles: (tmpDir: string) => Promise<string[]>,
  companionSource?: string,
): Promise<Manifest> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  const tag = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = join(parent, `.${basename(target)}.tmp-${tag}`);
  await mkdir(tmp);
  try {
    const written = new Set(await writeFiles(tmp));
    if (companionSource !== undefined && resolve(companionSource) !== tmp) {
      for (const name of COMPANION_FILES) {
        const src = join(companionSource, name);
        if (!written.has(name) && (await exists(src))) {
          await copyFile(src, join(tmp, name));
          await fsyncPath(join(tmp, name));
          written.add(name);
        }
      }
    }
    const files: Record<string, ManifestEntry> = {};
    for (const name of [...written].sort()) {
      const path = join(tmp, name);
      files[name] = { bytes: (await stat(path)).size, sha256: await sha256File(path) };
    }
    const manifest: Manifest = { format: MANIFEST_FORMAT, createdAt: new Date().toISOString(), step, files };
    await writeFile(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    await fsyncPath(join(tmp, MANIFEST_FILE));
    await fsyncPath(tmp);
    // Replace: move any old checkpoint aside first so `dir` is always either the old or the new one.
    let old: string | undefined;
    if (await exists(target)) {
      old = join(parent, `.${basename(target)}.old-${tag}`);
      await rename(target, old);
    }
    await rename(tmp, target);
    await fsyncPath(parent);
    if (old !== undefined) await rm(old, { recursive: true, force: true });
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Checks a checkpoint directory before loading. A directory with a manifest must match it exactly (every
 * listed file present with its size and sha256). A directory that holds engine state but no manifest is a
 * partial save and is refused. A plain Hugging Face model directory (no engine state, no manifest) passes.
 */
export async function verifyCheckpoint(dir: string): Promise<Manifest | undefined> {
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!(await exists(dir))) throw new CheckpointError(`checkpoint ${dir} does not exist`);
  if (!(await exists(manifestPath))) {
    if (await exists(join(dir, ENGINE_STATE_FILE))) {
      throw new CheckpointError(
        `checkpoint ${dir} is incomplete: ${ENGINE_STATE_FILE} is there but ${MANIFEST_FILE} is missing (an interrupted save?)`,
      );
    }
    return undefined;
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Manifest;
  } catch (err) {
    throw new CheckpointError(
      `checkpoint ${dir}: ${MANIFEST_FILE} is not valid JSON (${(err as Error).message})`,
    );
  }
  if (manifest.format !== MANIFEST_FORMAT || typeof manifest.files !== 'object' || manifest.files === null) {
    throw new CheckpointError(`checkpoint ${dir}: ${MANIFEST_FILE} is not a ${MANIFEST_FORMAT} manifest`);
  }
  for (const [name, entry] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    if (!(await exists(path))) {
      throw new CheckpointError(
        `checkpoint ${dir} is incomplete: ${name} is listed in ${MANIFEST_FILE} but missing`,
      );
    }
    const size = (await stat(path)).size;
    if (size !== entry.bytes) {
      throw new CheckpointError(
        `checkpoint ${dir} is corrupt: ${name} has ${size} bytes, ${MANIFEST_FILE} says ${entry.bytes}`,
      );
    }
    const digest = await sha256File(path);
    if (digest !== entry.sha256) {
      throw new CheckpointError(
        `checkpoint ${dir} is corrupt: ${name} has sha256 ${digest}, ${MANIFEST_FILE} says ${entry.sha256}`,
      );
    }
  }
  return manifest;
}

/** Lists leftover temp/old directories of interrupted saves next to `dir` (for cleanup tools). */
export async function leftoverSaveDirs(dir: string): Promise<string[]> {
  const target = resolve(dir);
  const prefix = `.${basename(target)}.`;
  const names = await readdir(dirname(target)).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith(prefix) && (n.includes('.tmp-') || n.includes('.old-')))
    .map((n) => join(dirname(target), n));
}
