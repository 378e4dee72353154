// `siri grade`: grades math answers with grader/. One case from flags (--gold, --response), or a JSONL file
// of {"id","response","gold"} lines streamed through a worker_threads pool (--workers N), writing
// {"id","correct","extracted","reason"} lines in input order. Malformed lines are reported on stderr with
// their line number and skipped; the exit code is 3 when any were.
import type { Command } from 'commander';
import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { CliError } from './errors';
import { parsePositiveInt } from './options';
import { gradeResponse, type GradeOptions, type GradeResult } from '../grader/node/index';
import { GraderPool, type GradeCase } from '../grader/node/pool';

export interface GradeFlags {
  input?: string;
  output?: string;
  workers: string;
  gold?: string;
  response?: string;
  timeoutMs: string;
  think: string;
  answerIs?: boolean;
  hashes?: boolean;
  lastLine?: boolean;
}

/** Exit code when some input lines were malformed (2 is a usage error). */
export const MALFORMED_EXIT_CODE = 3;
const BATCH_SIZE = 32;

export function gradeOptionsFromFlags(flags: GradeFlags): GradeOptions {
  if (flags.think !== 'after-close' && flags.think !== 'ignore') {
    throw new CliError(`--think must be after-close or ignore, got "${flags.think}"`);
  }
  return {
    timeoutMs: parsePositiveInt('--timeout-ms', flags.timeoutMs),
    think: flags.think,
    answerIs: flags.answerIs ?? false,
    hashes: flags.hashes ?? false,
    lastLine: flags.lastLine ?? false,
  };
}

interface InputCase extends GradeCase {
  id: unknown;
}

/** One JSONL line as a case, or the reason it is malformed. */
export function parseCaseLine(line: string): InputCase | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return 'not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const record = value as Record<string, unknown>;
  if (!('id' in record)) return 'no "id" field';
  if (typeof record.response !== 'string') return '"response" must be a string';
  if (typeof record.gold !== 'string') return '"gold" must be a string';
  return { id: record.id, response: record.response, gold: record.gold };
}

export interface GradeSummary {
  graded: number;
  correct: number;
  malformedLines: number[];
  seconds: number;
}

async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** Streams a JSONL file through the pool; results are written in input order. */
export async function gradeFile(
  inputPath: string,
  out: NodeJS.WritableStream,
  workers: number,
  options: GradeOptions,
  warn: (line: string) => void,
): Promise<GradeSummary> {
  if (!existsSync(inputPath)) throw new CliError(`cannot read ${inputPath}: no such file`);
  const started = performance.now();
  const pool = new GraderPool(workers, options);
  const summary: GradeSummary = { graded: 0, correct: 0, malformedLines: [], seconds: 0 };
  const window = Math.max(2, workers * 4);
  const inflight: Promise<string>[] = [];
  const submit = (batch: InputCase[]): void => {
    const text = pool.gradeBatch(batch).then((results: GradeResult[]) => {
      let lines = '';
      results.forEach((r, i) => {
        summary.graded++;
        if (r.correct) summary.correct++;
        lines +=
          JSON.stringify({ id: batch[i]!.id, correct: r.correct, extracted: r.extracted, reason: r.reason }) +
          '\n';
      });
      return lines;
    });
    text.catch(() => undefined); // awaited in order below; avoid an unhandled rejection meanwhile
    inflight.push(text);
  };
  try {
    const lines = createInterface({
      input: createReadStream(inputPath, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    });
    let lineNumber = 0;
    let batch: InputCase[] = [];
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      const parsed = parseCaseLine(line);
      if (typeof parsed === 'string') {
        summary.malformedLines.push(lineNumber);
        warn(`line ${lineNumber}: skipped: ${parsed}`);
        continue;
      }
      batch.push(parsed);
      if (batch.length === BATCH_SIZE) {
        submit(batch);
        batch = [];
        if (inflight.length >= window) await write(out, await inflight.shift()!);
      }
    }
    if (batch.length > 0) submit(batch);
    while (inflight.length > 0) await write(out, await inflight.shift()!);
  } finally {
    await pool.close();
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

async function closeStream(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

export function registerGradeCommand(program: Command): void {
  program
    .command('grade')
    .description(
      'grade math answers: one with --gold/--response, or a JSONL file of {"id","response","gold"}',
    )
    .option('--input <file>', 'JSONL input, one {"id","response","gold"} object per line')
    .option('--output <file>', 'write {"id","correct","extracted","reason"} lines here (default: stdout)')
    .option('--workers <n>', 'worker threads for --input', '1')
    .option('--gold <answer>', 'gold answer of a single grade')
    .option('--response <text>', 'model response of a single grade')
    .option('--timeout-ms <ms>', 'time limit of each grade in milliseconds', '1000')
    .option(
      '--think <mode>',
      'after-close: answer only after </think>; ignore: search everywhere',
      'after-close',
    )
    .option('--answer-is', 'also accept "The answer is …" when there is no \\boxed{}')
    .option('--hashes', 'also accept "#### …" when there is no \\boxed{}')
    .option('--last-line', 'also accept the last line when nothing else is found')
    .action(async (flags: GradeFlags) => {
      const options = gradeOptionsFromFlags(flags);
      const single = flags.gold !== undefined || flags.response !== undefined;
      if (single && flags.input) throw new CliError('use either --input or --gold with --response, not both');
      if (single) {
        if (flags.gold === undefined || flags.response === undefined) {
          throw new CliError('a single grade needs both --gold and --response');
        }
        process.stdout.write(JSON.stringify(gradeResponse(flags.response, flags.gold, options)) + '\n');
        return;
      }
      if (!flags.input) throw new CliError('give --input cases.jsonl, or --gold and --response');
      const workers = parsePositiveInt('--workers', flags.workers);
      const file = flags.output ? createWriteStream(flags.output) : null;
      const summary = await gradeFile(flags.input, file ?? process.stdout, workers, options, (l) =>
        console.error(l),
      );
      if (file) await closeStream(file);
      const rate = summary.seconds > 0 ? Math.round(summary.graded / summary.seconds) : summary.graded;
      console.error(
        `graded ${summary.graded} cases: ${summary.correct} correct; ${summary.malformedLines.length} malformed lines skipped; ` +
          `${workers} worker${workers === 1 ? '' : 's'}, ${summary.seconds.toFixed(2)} s (${rate} grades/s)`,
      );
      if (summary.malformedLines.length > 0) {
        const shown = summary.malformedLines.slice(0, 20).join(', ');
        const more = summary.malformedLines.length > 20 ? ', …' : '';
        throw new CliError(
          `${summary.malformedLines.length} malformed input lines skipped (lines ${shown}${more})`,
          MALFORMED_EXIT_CODE,
        );
      }
    });
}
