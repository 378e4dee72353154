// Problem-set loading for evaluation and training data: JSONL (one object per line), JSON arrays and
// Parquet (read with hyparquet, a pure-JS reader). Field names are configurable and may be dotted paths
// into nested objects (e.g. `reward_model.ground_truth` in verl-style Parquet files). A line that is not
// valid JSON, not an object, or lacks a usable problem/answer is reported with its file and line, skipped,
// and counted; the caller prints the count at the end (see describeLoad).
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import type { Compressors } from 'hyparquet';

export interface Problem {
  /** 0-based position among the problems kept from this file. */
  index: number;
  /** The id field when present (as a string), else `<set name>-<line>`. */
  id: string;
  problem: string;
  /** The reference answer as text; a numeric answer (e.g. AMC's 142.0 stored as a number) becomes "142". */
  answer: string;
  /** 1-based line (JSONL), element (JSON array) or row (Parquet) in the source file. */
  line: number;
}

/** One record that was skipped while loading, with where it was and why. */
export interface SkippedRecord {
  file: string;
  /** 1-based line / element / row, as in Problem.line. */
  line: number;
  reason: string;
}

export interface ProblemSet {
  /** The file's base name without extension, e.g. "aime24". */
  name: string;
  file: string;
  format: ProblemFileFormat;
  problems: Problem[];
  skipped: SkippedRecord[];
}

export type ProblemFileFormat = 'jsonl' | 'json' | 'parquet';

export interface LoadOptions {
  /** Field (dotted path) holding the problem text; default "problem". */
  problemField?: string;
  /** Field (dotted path) holding the reference answer; default "answer". */
  answerField?: string;
  /** Field (dotted path) holding an id; default "id" (optional in the data). */
  idField?: string;
  /** Called once per skipped record as soon as it is found (e.g. to print it). */
  onSkip?: (record: SkippedRecord) => void;
}

export class ProblemSetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProblemSetError';
  }
}

/** The format from the file extension: .jsonl/.ndjson, .json, .parquet/.pq. */
export function detectFormat(file: string): ProblemFileFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.json') return 'json';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new ProblemSetError(
    `${file}: unknown problem-set format "${ext}" (expected .jsonl, .json or .parquet)`,
  );
}

/** The set name of a file: its base name without the extension. */
export function problemSetName(file: string): string {
  return basename(file, extname(file));
}

/** Loads one problem set. Throws ProblemSetError for an unreadable file; bad records are skipped. */
export async function loadProblemSet(file: string, options: LoadOptions = {}): Promise<ProblemSet> {
  const format = detectFormat(file);
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new ProblemSetError(`${file}: not a file`);
  } catch (err) {
    if (err instanceof ProblemSetError) throw err;
    throw new ProblemSetError(`${file}: cannot read the problem set (${(err as Error).message})`);
  }
  const collector = new RecordCollector(file, problemSetName(file), options);
  if (format === 'jsonl') await readJsonl(file, collector);
  else if (format === 'json') await readJsonArray(file, collector);
  else await readParquet(file, collector, options);
  return {
    name: problemSetName(file),
    file,
    format,
    problems: collector.problems,
    skipped: collector.skipped,
  };
}

/** Loads several problem sets in order. */
export async function loadProblemSets(
  files: readonly string[],
  options: LoadOptions = {},
): Promise<ProblemSet[]> {
  const sets: ProblemSet[] = [];
  for (const file of files) sets.push(await loadProblemSet(file, options));
  return sets;
}

/** "file:line: reason (skipped)" — how a skipped record is shown to a person. */
export function formatSkipped(record: SkippedRecord): string {
  return `${record.file}:${record.line}: ${record.reason} (skipped)`;
}

/** The closing line of a load: "aime24 (FILE): 30 problems loaded, 2 records skipped". */
export function describeLoad(set: ProblemSet): string {
  const n = set.problems.length;
  const k = set.skipped.length;
  return (
    `${set.name} (${set.file}): ${n} problem${n === 1 ? '' : 's'} loaded, ` +
    `${k} record${k === 1 ? '' : 's'} skipped`
  );
}

// ---------------------------------------------------------------------------------------------------
// Turning raw records into problems

/** Reads a dotted path ("a.b.c") out of a parsed record; undefined when any step is missing. */
export function getField(record: unknown, path: string): unknown {
  let value: unknown = record;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The answer as text: strings as they are, finite numbers (and bigints) in their shortest decimal form. */
function answerText(value: unknown): string | { error: string } {
  if (typeof value === 'string') return value.trim() === '' ? { error: 'is empty' } : value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : { error: `is ${value}` };
  if (typeof value === 'bigint') return value.toString();
  return { error: `must be a string or a number, got ${describeType(value)}` };
}

class RecordCollector {
  readonly problems: Problem[] = [];
  readonly skipped: SkippedRecord[] = [];
  private readonly problemField: string;
  private readonly answerField: string;
  private readonly idField: string;

  constructor(
    private readonly file: string,
    private readonly setName: string,
    private readonly options: LoadOptions,
  ) {
    this.problemField = options.problemField ?? 'problem';
    this.answerField = options.answerField ?? 'answer';
    this.idField = options.idField ?? 'id';
  }

  skip(line: number, reason: string): void {
    const record = { file: this.file, line, reason };
    this.skipped.push(record);
    this.options.onSkip?.(record);
  }

  add(record: unknown, line: number): void {
    if (record === null || typeof record !== 'object' || Array.isArray(record)) {
      this.skip(line, `expected a JSON object, got ${describeType(record)}`);
      return;
    }
    const problem = getField(record, this.problemField);
    if (problem === undefined) return this.skip(line, `missing field "${this.problemField}"`);
    if (typeof problem !== 'string') {
      return this.skip(line, `field "${this.problemField}" must be a string, got ${describeType(problem)}`);
    }
    if (problem.trim() === '') return this.skip(line, `field "${this.problemField}" is empty`);
    const rawAnswer = getField(record, this.answerField);
    if (rawAnswer === undefined) return this.skip(line, `missing field "${this.answerField}"`);
    const answer = answerText(rawAnswer);
    if (typeof answer !== 'string') return this.skip(line, `field "${this.answerField}" ${answer.error}`);
    const rawId = getField(record, this.idField);
    const id =
      typeof rawId === 'string' || typeof rawId === 'number' || typeof rawId === 'bigint'
        ? String(rawId)
        : `${this.setName}-${line}`;
    this.problems.push({ index: this.problems.length, id, problem, answer, line });
  }
}

// ---------------------------------------------------------------------------------------------------
// Formats

async function readJsonl(file: string, collector: RecordCollector): Promise<void> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const rawLine of lines) {
    lineNumber++;
    const text = (lineNumber === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine).trim();
    if (text === '') continue; // blank lines (e.g. a trailing newline) are not records
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (err) {
      collector.skip(lineNumber, `invalid JSON (${(err as Error).message})`);
      continue;
    }
    collector.add(record, lineNumber);
  }
}

async function readJsonArray(file: string, collector: RecordCollector): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ProblemSetError(`${file}: invalid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed)) {
    throw new ProblemSetError(`${file}: expected a JSON array of problems, got ${describeType(parsed)}`);
  }
  parsed.forEach((record, i) => collector.add(record, i + 1));
}

/** Decompressors hyparquet lacks (it decodes SNAPPY itself), from Node's zlib where Node has them. */
function nodeCompressors(): Compressors {
  const compressors: Compressors = {
    GZIP: (input) => new Uint8Array(gunzipSync(input)),
    BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
  };
  // zstd arrived in Node 22.15; on older Node a ZSTD file fails with hyparquet's "unsupported codec".
  const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;
  if (zstd) compressors.ZSTD = (input) => new Uint8Array(zstd(input));
  return compressors;
}

async function readParquet(file: string, collector: RecordCollector, options: LoadOptions): Promise<void> {
  const rows = await readParquetRows(file, [
    options.problemField ?? 'problem',
    options.answerField ?? 'answer',
    options.idField ?? 'id',
  ]);
  rows.forEach((row, i) => collector.add(row, i + 1));
}

/**
 * Reads the top-level columns that the given field paths start with. The problem and answer columns
 * must exist (a missing column would skip every row, so it is an error naming the columns there are);
 * the id column is optional.
 */
async function readParquetRows(
  file: string,
  fieldPaths: readonly string[],
): Promise<Record<string, unknown>[]> {
  try {
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    const available = parquetSchema(metadata).children.map((c) => c.element.name);
    const [problemTop, answerTop, idTop] = fieldPaths.map((p) => p.split('.')[0] ?? p);
    for (const [top, path] of [
      [problemTop, fieldPaths[0]],
      [answerTop, fieldPaths[1]],
    ] as const) {
      if (top === undefined || !available.includes(top)) {
        throw new ProblemSetError(
          `${file}: no column "${top}" for field "${path}" (columns: ${available.join(', ')})`,
        );
      }
    }
    const columns = [...new Set([problemTop, answerTop, idTop].filter((c): c is string => !!c))].filter((c) =>
      available.includes(c),
    );
    return (await parquetReadObjects({
      file: buffer,
      metadata,
      columns,
      rowFormat: 'object',
      compressors: nodeCompressors(),
    })) as Record<string, unknown>[];
  } catch (err) {
    if (err instanceof ProblemSetError) throw err;
    throw new ProblemSetError(`${file}: cannot read Parquet (${(err as Error).message})`);
  }
}
