// Crash-safe writes for evaluation results and reports: every file is written to a temp file in the
// same directory, fsync'd, renamed over the target and the directory fsync'd, so a reader sees either
// the old file or the whole new one. Also a streaming gzip variant for large sample dumps.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { FileRef } from '../workflows/types';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

async function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Moves a finished temp file into place durably: fsync it, rename, fsync the directory. */
async function commitTemp(tmp: string, path: string): Promise<void> {
  await fsyncPath(tmp, 'r+');
  await rename(tmp, path);
  await fsyncPath(dirname(path), 'r');
}

/** Atomically replaces `path` with `data` and returns its FileRef. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<FileRef> {
  await mkdir(dirname(path), { recursive: true });
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempPathFor(path);
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
    } finally {
      await handle.close();
    }
    await commitTemp(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

/**
 * Atomically writes one JSON line per item, gzip-compressed, streaming (a 500 × 64-sample evaluation of
 * long responses does not fit comfortably in one string). Returns the FileRef of the compressed file.
 */
export async function writeGzipJsonLinesAtomic(
  path: string,
  items: Iterable<unknown> | AsyncIterable<unknown>,
): Promise<FileRef> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  const hash = createHash('sha256');
  let bytes = 0;
  async function* lines(): AsyncGenerator<string> {
    for await (const item of items as AsyncIterable<unknown>) yield JSON.stringify(item) + '\n';
  }
  const gzip = createGzip();
  gzip.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  try {
    await pipeline(Readable.from(lines()), gzip, createWriteStream(tmp));
    await commitTemp(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { path, sha256: hash.digest('hex'), bytes };
}
