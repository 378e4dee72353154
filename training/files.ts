// Crash-safe file primitives for run directories: write to a temp file, fsync, rename, fsync the parent
// directory — so a reader sees either the old file or the complete new one, never half of one.
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
  createReadStream,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { FileRef } from '../workflows/types';

/** fsync a directory so a rename inside it is durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Atomically replaces `path` with `data` (temp file in the same directory, fsync, rename, fsync dir). */
export function atomicWriteFile(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dir);
}

export function atomicWriteJson(path: string, value: unknown): void {
  atomicWriteFile(path, JSON.stringify(value, null, 2) + '\n');
}

export function sha256Bytes(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of a file, streamed (checkpoint shards can be GBs). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
  return hash.digest('hex');
}

/** A FileRef for an existing file. */
export async function fileRef(path: string): Promise<FileRef> {
  return { path, sha256: await sha256File(path), bytes: statSync(path).size };
}

/** Writes a file atomically and returns its FileRef (hash computed from the bytes written). */
export function writeFileRef(path: string, data: string | Uint8Array): FileRef {
  atomicWriteFile(path, data);
  const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  return { path, sha256: sha256Bytes(data), bytes };
}

/** Reads a file and checks it against its FileRef; a mismatch names the file. */
export function readVerified(ref: FileRef): Buffer {
  const data = readFileSync(ref.path);
  const actual = sha256Bytes(data);
  if (actual !== ref.sha256) {
    throw new Error(
      `${ref.path} does not match its recorded sha256 (expected ${ref.sha256.slice(0, 12)}…, got ${actual.slice(0, 12)}…): the file was changed or corrupted`,
    );
  }
  return data;
}
