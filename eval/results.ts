// Evaluation results: per-sample records → per-dataset numbers (aggregateDataset, using siri/metrics.ts),
// the summary over datasets, and the files of a results directory, all written atomically:
//   samples.jsonl.gz  every sample's text, length, grade (one JSON line each), gzip-compressed;
//   results.md        a table for people;
//   results.json      every number, the config, model path, seed, template and versions — written last,
//                     so its presence means the directory is complete.
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip, gunzipSync } from 'node:zlib';
import { z } from 'zod';
import {
  DEFAULT_BEHAVIOUR_KEYWORDS,
  keywordRatesByCorrectness,
  lengthStatsByCorrectness,
  meanPassAtK,
  passAt1,
  truncationRate,
} from '../siri/metrics';
import type { DatasetEvalResult, EvalSummary, FileRef } from '../workflows/types';
import { writeFileAtomic, writeGzipJsonLinesAtomic } from './atomic';
import type { TemplateName } from './templates';

export const RESULTS_JSON = 'results.json';
export const RESULTS_MD = 'results.md';
export const SAMPLES_FILE = 'samples.jsonl.gz';

// ---------------------------------------------------------------------------------------------------
// Per-sample records and their aggregation

/** One graded sample of one problem. */
export interface SampleRecord {
  /** 0-based index of the problem in its set. */
  problemIndex: number;
  /** 0-based index of the sample among the problem's samples. */
  sampleIndex: number;
  correct: boolean;
  /** Response length in tokens. */
  length: number;
  /** Whether generation stopped at the max-token cap rather than at an end-of-turn. */
  truncated: boolean;
  text: string;
  /** Mean token entropy of the response (nats), when the engine reported it. */
  entropy?: number | null;
}

export interface AggregateOptions {
  name: string;
  file: string;
  /** Records skipped while loading the set. */
  skipped?: number;
  /** Problems in the set: when given, every problem 0 … problems − 1 must have samples. */
  problems?: number;
  /** The ks of pass@k; default 1, 2, 4, … up to and including the samples per problem. */
  ks?: readonly number[];
  keywords?: readonly string[];
}

/** 1, 2, 4, 8, … below n, and n itself: the default ks of pass@k for n samples per problem. */
export function defaultKs(n: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k < n; k *= 2) ks.push(k);
  ks.push(n);
  return ks;
}

/** Groups samples by problem, each problem's samples in sampleIndex order; rejects duplicates. */
function groupByProblem(samples: readonly SampleRecord[]): Map<number, SampleRecord[]> {
  const byProblem = new Map<number, SampleRecord[]>();
  const seen = new Set<string>();
  for (const s of samples) {
    const key = `${s.problemIndex}/${s.sampleIndex}`;
    if (seen.has(key)) throw new RangeError(`duplicate sample ${s.sampleIndex} of problem ${s.problemIndex}`);
    seen.add(key);
    const list = byProblem.get(s.problemIndex) ?? [];
    list.push(s);
    byProblem.set(s.problemIndex, list);
  }
  for (const list of byProblem.values()) list.sort((a, b) => a.sampleIndex - b.sampleIndex);
  return new Map([...byProblem.entries()].sort((a, b) => a[0] - b[0]));
}

/**
 * Token-weighted mean of per-sample mean entropies, Σ H̄_i·len_i / Σ len_i: the mean over every token
 * of every sample that reported an entropy (the same token-mean as meanTokenEntropy); null if none did.
 */
function tokenMeanEntropy(samples: readonly SampleRecord[]): number | null {
  let weighted = 0;
  let tokens = 0;
  for (const s of samples) {
    if (s.entropy === undefined || s.entropy === null) continue;
    weighted += s.entropy * s.length;
    tokens += s.length;
  }
  return tokens > 0 ? weighted / tokens : null;
}

/** Per-dataset numbers of an evaluation from its graded samples. */
export function aggregateDataset(
  samples: readonly SampleRecord[],
  options: AggregateOptions,
): DatasetEvalResult {
  if (samples.length === 0) throw new RangeError(`${options.name}: no samples to aggregate`);
  const byProblem = groupByProblem(samples);
  if (options.problems !== undefined) {
    const missing = [];
    for (let p = 0; p < options.problems; p++) if (!byProblem.has(p)) missing.push(p);
    if (missing.length > 0) {
      throw new RangeError(
        `${options.name}: ${missing.length} of ${options.problems} problems have no samples (first: ${missing[0]})`,
      );
    }
  }
  const perProblem = [...byProblem.values()];
  const samplesPerProblem = Math.min(...perProblem.map((list) => list.length));
  const ks = options.ks ?? defaultKs(samplesPerProblem);
  const counts = perProblem.map((list) => ({ n: list.length, c: list.filter((s) => s.correct).length }));
  const passAtK: Record<string, number> = {};
  for (const k of ks) {
    if (k > samplesPerProblem) {
      throw new RangeError(
        `${options.name}: pass@${k} needs at least ${k} samples per problem, got ${samplesPerProblem}`,
      );
    }
    passAtK[String(k)] = meanPassAtK(counts, k);
  }
  const lengths = lengthStatsByCorrectness(samples);
  const keywords = keywordRatesByCorrectness(
    samples.map((s) => ({ text: s.text, tokens: s.length, correct: s.correct })),
    options.keywords ?? DEFAULT_BEHAVIOUR_KEYWORDS,
  );
  return {
    name: options.name,
    file: options.file,
    problems: perProblem.length,
    samplesPerProblem,
    pass1: passAt1(perProblem.map((list) => list.map((s) => s.correct))),
    passAtK,
    meanLength: lengths.all?.mean ?? 0,
    meanLengthCorrect: lengths.correct?.mean ?? null,
    meanLengthIncorrect: lengths.incorrect?.mean ?? null,
    truncationRate: truncationRate(samples),
    keywordsPer1k: { correct: keywords.correct.per1k, incorrect: keywords.incorrect.per1k },
    meanEntropy: tokenMeanEntropy(samples),
    skipped: options.skipped ?? 0,
  };
}

/** The evaluation summary: the datasets and the unweighted mean over datasets of pass@1 and length. */
export function summarizeEval(
  datasets: readonly DatasetEvalResult[],
  at: { step: number | null; checkpointName: string | null },
): EvalSummary {
  if (datasets.length === 0) throw new RangeError('an evaluation summary needs at least one dataset');
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  return {
    step: at.step,
    checkpointName: at.checkpointName,
    datasets: [...datasets],
    meanPass1: mean(datasets.map((d) => d.pass1)),
    meanLength: mean(datasets.map((d) => d.meanLength)),
  };
}

// ---------------------------------------------------------------------------------------------------
// results.json

export interface VersionInfo {
  siri: string;
  node: string;
  /** libtorch version of the native engine, null when the addon could not be loaded. */
  torch: string | null;
}

/** Everything that determines the samples, as configured. */
export interface EvalRunConfig {
  dataFiles: string[];
  problemField: string;
  answerField: string;
  samples: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  keywords: string[];
  /** Any further settings (batch size, shards, device, …), recorded as given. */
  extra?: Record<string, unknown>;
}

export interface EvalResultsFile {
  format: 'siri-eval-results';
  formatVersion: 1;
  /** Row name in reports (e.g. "SIRI-low" or "DeepScaleR"); null = the directory name. */
  label: string | null;
  model: { path: string; step: number | null; checkpointName: string | null };
  template: { name: TemplateName; text: string };
  seed: number;
  config: EvalRunConfig;
  versions: VersionInfo;
  startedAt: string | null;
  finishedAt: string;
  wallSeconds: number | null;
  summary: EvalSummary;
  /** The sample dump next to results.json: name, sha256, compressed bytes. */
  samplesFile: { name: string; sha256: string; bytes: number; count: number };
}

/** siri's version from package.json. */
export function siriVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** siri, Node and (when the native engine loads) libtorch versions. */
export async function collectVersions(): Promise<VersionInfo> {
  let torch: string | null = null;
  try {
    const native = await import('../native');
    torch = native.engineInfo().torchVersion;
  } catch {
    torch = null; // the addon is not built here: results still record siri and Node
  }
  return { siri: siriVersion(), node: process.versions.node, torch };
}

/** One line of samples.jsonl.gz. */
export interface StoredSample extends SampleRecord {
  dataset: string;
  problemId?: string;
  /** The answer the grader extracted, when it found one. */
  extractedAnswer?: string | null;
}

export interface WriteEvalResultsInput {
  label?: string | null;
  model: EvalResultsFile['model'];
  template: EvalResultsFile['template'];
  seed: number;
  config: EvalRunConfig;
  summary: EvalSummary;
  startedAt?: Date | null;
  finishedAt?: Date;
  /** Defaults to collectVersions(). */
  versions?: VersionInfo;
  samples: Iterable<StoredSample> | AsyncIterable<StoredSample>;
}

export interface WrittenResults {
  results: FileRef;
  markdown: FileRef;
  samples: FileRef;
  file: EvalResultsFile;
}

/** Writes samples.jsonl.gz, results.md and (last) results.json into `dir`, each atomically. */
export async function writeEvalResults(dir: string, input: WriteEvalResultsInput): Promise<WrittenResults> {
  let count = 0;
  async function* counted(): AsyncGenerator<StoredSample> {
    for await (const s of input.samples as AsyncIterable<StoredSample>) {
      count++;
      yield s;
    }
  }
  const samples = await writeGzipJsonLinesAtomic(join(dir, SAMPLES_FILE), counted());
  const finishedAt = input.finishedAt ?? new Date();
  const file: EvalResultsFile = {
    format: 'siri-eval-results',
    formatVersion: 1,
    label: input.label ?? null,
    model: input.model,
    template: input.template,
    seed: input.seed,
    config: input.config,
    versions: input.versions ?? (await collectVersions()),
    startedAt: input.startedAt ? input.startedAt.toISOString() : null,
    finishedAt: finishedAt.toISOString(),
    wallSeconds: input.startedAt ? (finishedAt.getTime() - input.startedAt.getTime()) / 1000 : null,
    summary: input.summary,
    samplesFile: { name: SAMPLES_FILE, sha256: samples.sha256, bytes: samples.bytes, count },
  };
  const markdown = await writeFileAtomic(join(dir, RESULTS_MD), resultsMarkdown(file));
  const results = await writeFileAtomic(join(dir, RESULTS_JSON), JSON.stringify(file, null, 2) + '\n');
  return { results, markdown, samples, file };
}

// ---------------------------------------------------------------------------------------------------
// Reading back

const DatasetEvalResultSchema = z.looseObject({
  name: z.string(),
  file: z.string(),
  problems: z.number(),
  samplesPerProblem: z.number(),
  pass1: z.number(),
  passAtK: z.record(z.string(), z.number()),
  meanLength: z.number(),
  meanLengthCorrect: z.number().nullable(),
  meanLengthIncorrect: z.number().nullable(),
  truncationRate: z.number(),
  keywordsPer1k: z.object({
    correct: z.record(z.string(), z.number()),
    incorrect: z.record(z.string(), z.number()),
  }),
  meanEntropy: z.number().nullable(),
  skipped: z.number(),
});

export const EvalSummarySchema = z.looseObject({
  step: z.number().nullable(),
  checkpointName: z.string().nullable(),
  datasets: z.array(DatasetEvalResultSchema).min(1),
  meanPass1: z.number(),
  meanLength: z.number(),
});

const EvalResultsFileSchema = z.looseObject({
  format: z.literal('siri-eval-results'),
  formatVersion: z.literal(1),
  label: z.string().nullable(),
  summary: EvalSummarySchema,
});

/** Reads and checks a results.json; the error names the file and the first bad field. */
export async function readEvalResults(path: string): Promise<EvalResultsFile> {
  const parsed = EvalResultsFileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path}: not a siri results.json (${issue?.path.join('.') || '(root)'}: ${issue?.message})`,
    );
  }
  return parsed.data as unknown as EvalResultsFile;
}

/** Streams the samples of a samples.jsonl.gz back. */
export async function* readSamples(path: string): AsyncGenerator<StoredSample> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as StoredSample;
}

/** Every samples.jsonl.gz under `dir`, at any depth (a results directory, or a run's evals/ or one of its checkpoints). */
export function samplesFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return samplesFilesUnder(path);
      return name === 'samples.jsonl.gz' ? [path] : [];
    });
}

/** All samples of one samples.jsonl.gz, read at once (for scripts; `readSamples` streams). */
export function readSamplesSync<T = StoredSample>(path: string): T[] {
  return gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

// ---------------------------------------------------------------------------------------------------
// results.md

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const tokens = (x: number | null): string => (x === null ? '–' : Math.round(x).toLocaleString('en-US'));

/** The markdown table of an evaluation (one row per dataset, then the mean). */
export function resultsMarkdown(file: EvalResultsFile): string {
  const { summary, config } = file;
  const ks = [...new Set(summary.datasets.flatMap((d) => Object.keys(d.passAtK)))]
    .map(Number)
    .filter((k) => k > 1)
    .sort((a, b) => a - b);
  const maxK = ks.length > 0 ? ks[ks.length - 1] : undefined;
  const head = ['Dataset', 'Problems', 'Samples', 'pass@1', ...(maxK ? [`pass@${maxK}`] : [])];
  head.push('Mean length', 'Length (correct)', 'Length (incorrect)', 'Truncated', 'Entropy', 'Skipped');
  const rows = summary.datasets.map((d) => [
    d.name,
    String(d.problems),
    String(d.samplesPerProblem),
    pct(d.pass1),
    ...(maxK ? [d.passAtK[String(maxK)] === undefined ? '–' : pct(d.passAtK[String(maxK)] ?? 0)] : []),
    tokens(d.meanLength),
    tokens(d.meanLengthCorrect),
    tokens(d.meanLengthIncorrect),
    pct(d.truncationRate),
    d.meanEntropy === null ? '–' : d.meanEntropy.toFixed(3),
    String(d.skipped),
  ]);
  const meanRow = ['**mean**', '', '', `**${pct(summary.meanPass1)}**`, ...(maxK ? [''] : [])];
  meanRow.push(`**${tokens(summary.meanLength)}**`, '', '', '', '', '');
  const table = [head, head.map(() => '---'), ...rows, meanRow].map((r) => `| ${r.join(' | ')} |`).join('\n');
  const at =
    summary.checkpointName !== null
      ? `checkpoint ${summary.checkpointName}${summary.step !== null ? ` (step ${summary.step})` : ''}`
      : summary.step !== null
        ? `step ${summary.step}`
        : 'model';
  const lines = [
    `# Evaluation${file.label ? `: ${file.label}` : ''}`,
    '',
    `- Model: \`${file.model.path}\` (${at})`,
    `- Template: \`${file.template.name}\``,
    `- Sampling: ${config.samples} samples per problem, temperature ${config.temperature}, top-p ${config.topP}, ` +
      `max ${config.maxTokens} new tokens, seed ${file.seed}`,
    `- Versions: siri ${file.versions.siri}, Node ${file.versions.node}, torch ${file.versions.torch ?? 'n/a'}`,
    `- Finished: ${file.finishedAt}${file.wallSeconds !== null ? ` (${file.wallSeconds.toFixed(0)} s)` : ''}`,
    '',
    table,
    '',
  ];
  return lines.join('\n');
}
