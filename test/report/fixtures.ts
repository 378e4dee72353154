// SYNTHETIC FIXTURES FOR THE REPORT TESTS — NOT RESULTS. Builds realistic-looking run and results
// directories from a seeded generator: a 60-step cosine-schedule run (metrics.jsonl, config.json,
// evals/<checkpoint>/results.json) and two standalone "baseline" results directories. Every number here
// is made up to exercise the report; none was measured on a model. Each file says so in a `fixture` field.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aggregateDataset, summarizeEval, writeEvalResults, type StoredSample } from '../../eval/results';
import { templateText } from '../../eval/templates';
import {
  maxTokensAt,
  namedCheckpoints,
  phaseAt,
  iterationAt,
  type ScheduleConfig,
} from '../../siri/schedule';
import type { DatasetEvalResult, EvalSummary, StepMetrics } from '../../workflows/types';
import { mulberry32 } from '../../training/seeds';

export const FIXTURE_NOTE = 'synthetic fixture for report tests, not a result';

export const FIXTURE_SCHEDULE: ScheduleConfig = { kind: 'cosine', lMax: 16384, lMin: 8192, cycle: 20 };
export const FIXTURE_STEPS = 60;

/** A small seeded PRNG (mulberry32, shared with training/seeds.ts) so fixtures are identical on every run. */
export const seededRandom = mulberry32;

/** Base accuracy and mean length per benchmark of the made-up base model. */
const BENCHMARKS: { name: string; accuracy: number; length: number }[] = [
  { name: 'aime24', accuracy: 0.29, length: 16200 },
  { name: 'aime25', accuracy: 0.23, length: 15800 },
  { name: 'amc', accuracy: 0.62, length: 10400 },
  { name: 'math500', accuracy: 0.83, length: 5600 },
];

const FILLER = ['the', 'sum', 'is', 'then', 'we', 'get', 'let', 'x', 'equal', 'check', 'value', 'therefore'];

/** A made-up response of `words` words with the behaviour keywords at the given rates per word. */
function responseText(rand: () => number, words: number, waitRate: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const r = rand();
    if (r < waitRate) out.push('Wait,');
    else if (r < waitRate * 1.3) out.push('alternatively');
    else if (r < waitRate * 1.45) out.push('hold on');
    else if (r < waitRate * 1.45 + 0.06) out.push('so');
    else if (r < waitRate * 1.45 + 0.08) out.push('compute');
    else out.push(FILLER[Math.floor(rand() * FILLER.length)] ?? 'x');
  }
  return out.join(' ');
}

export interface ModelProfile {
  /** Multiplies the base accuracy of every benchmark. */
  accuracy: number;
  /** Multiplies the base mean length. */
  length: number;
  /** "wait" per word in incorrect responses (correct ones get 60% of it). */
  waitRate: number;
}

const PROBLEMS_PER_SET = 12;
const SAMPLES_PER_PROBLEM = 4;
const EVAL_MAX_TOKENS = 32768;

/** Graded samples of a made-up model on one benchmark. */
function syntheticSamples(
  rand: () => number,
  bench: (typeof BENCHMARKS)[number],
  profile: ModelProfile,
): StoredSample[] {
  const samples: StoredSample[] = [];
  for (let p = 0; p < PROBLEMS_PER_SET; p++) {
    const difficulty = 0.4 + 1.2 * (p / (PROBLEMS_PER_SET - 1)); // easy … hard
    const pCorrect = Math.min(0.98, Math.max(0.02, (bench.accuracy * profile.accuracy) / difficulty));
    for (let s = 0; s < SAMPLES_PER_PROBLEM; s++) {
      const correct = rand() < pCorrect;
      const raw = bench.length * profile.length * (correct ? 0.8 : 1.25) * (0.6 + 0.8 * rand());
      const length = Math.min(EVAL_MAX_TOKENS, Math.round(raw));
      samples.push({
        dataset: bench.name,
        problemIndex: p,
        problemId: `${bench.name}-${p + 1}`,
        sampleIndex: s,
        correct,
        length,
        truncated: length >= EVAL_MAX_TOKENS,
        // About one word per 100 tokens, so keyword rates per token follow the profile's rates.
        text: responseText(
          rand,
          Math.max(5, Math.round(length / 100)),
          profile.waitRate * (correct ? 0.6 : 1),
        ),
        entropy: 0.3 + 0.25 * rand() * profile.length,
        extractedAnswer: correct ? '42' : '41',
      });
    }
  }
  return samples;
}

/** Writes a results directory (the real writer) for a made-up model. Returns its summary. */
export async function writeSyntheticResults(
  dir: string,
  opts: {
    label: string | null;
    profile: ModelProfile;
    seed: number;
    step: number | null;
    checkpointName: string | null;
  },
): Promise<EvalSummary> {
  const rand = seededRandom(opts.seed);
  const all: StoredSample[] = [];
  const datasets: DatasetEvalResult[] = [];
  for (const bench of BENCHMARKS) {
    const samples = syntheticSamples(rand, bench, opts.profile);
    all.push(...samples);
    datasets.push(
      aggregateDataset(samples, {
        name: bench.name,
        file: `/data/${bench.name}.jsonl`,
        problems: PROBLEMS_PER_SET,
      }),
    );
  }
  const summary = summarizeEval(datasets, { step: opts.step, checkpointName: opts.checkpointName });
  await writeEvalResults(dir, {
    label: opts.label,
    model: {
      path: `/models/${FIXTURE_NOTE.replace(/ /g, '-')}`,
      step: opts.step,
      checkpointName: opts.checkpointName,
    },
    template: { name: 'r1', text: templateText('r1') },
    seed: opts.seed,
    config: {
      dataFiles: BENCHMARKS.map((b) => `/data/${b.name}.jsonl`),
      problemField: 'problem',
      answerField: 'answer',
      samples: SAMPLES_PER_PROBLEM,
      temperature: 0.6,
      topP: 0.95,
      maxTokens: EVAL_MAX_TOKENS,
      keywords: ['wait', 'hold on', 'alternatively', 'so', 'compute'],
      extra: { fixture: FIXTURE_NOTE },
    },
    summary,
    startedAt: new Date('2025-01-01T00:00:00Z'),
    finishedAt: new Date('2025-01-01T01:00:00Z'),
    versions: { siri: '0.1.0', node: '20.20.0', torch: '2.13.0' },
    samples: all,
  });
  return summary;
}

/** The made-up checkpoint profiles: compression shortens responses, accuracy climbs over iterations. */
export const CHECKPOINT_PROFILES: Record<string, ModelProfile> = {
  base: { accuracy: 1, length: 1, waitRate: 0.05 },
  'Iter1-Compressed': { accuracy: 1.05, length: 0.62, waitRate: 0.03 },
  'Iter1-Expanded': { accuracy: 1.12, length: 0.8, waitRate: 0.035 },
  'Iter2-Compressed': { accuracy: 1.16, length: 0.58, waitRate: 0.025 },
  'Iter2-Expanded': { accuracy: 1.22, length: 0.74, waitRate: 0.03 },
  'Iter3-Compressed': { accuracy: 1.25, length: 0.55, waitRate: 0.02 },
  'Iter3-Expanded': { accuracy: 1.3, length: 0.7, waitRate: 0.025 },
};

/** A made-up in-training evaluation at `step` (no samples behind it: numbers from a smooth trend). */
function trainingEvalSummary(step: number, rand: () => number, name: string | null): EvalSummary {
  const progress = step / FIXTURE_STEPS;
  const lengthFactor = maxTokensAt(FIXTURE_SCHEDULE, step) / 16384; // L(t)/lMax, in [0.5, 1]
  const datasets: DatasetEvalResult[] = BENCHMARKS.map((b) => {
    const pass1 = Math.min(0.97, b.accuracy * (1 + 0.3 * progress) + 0.02 * (rand() - 0.5));
    const meanLength = b.length * (0.35 + 0.5 * lengthFactor);
    return {
      name: b.name,
      file: `/data/${b.name}.jsonl`,
      problems: PROBLEMS_PER_SET,
      samplesPerProblem: SAMPLES_PER_PROBLEM,
      pass1,
      passAtK: { '1': pass1, '4': Math.min(1, pass1 * 1.6) },
      meanLength,
      meanLengthCorrect: meanLength * 0.8,
      meanLengthIncorrect: meanLength * 1.2,
      truncationRate: 0.02,
      keywordsPer1k: { correct: { wait: 1.2, so: 8 }, incorrect: { wait: 2.4, so: 7 } },
      meanEntropy: 0.42 - 0.08 * progress,
      skipped: 0,
    };
  });
  return summarizeEval(datasets, { step, checkpointName: name });
}

/** One made-up metrics.jsonl record. */
function stepRecord(step: number, rand: () => number, checkpointName: string | undefined): StepMetrics {
  const L = maxTokensAt(FIXTURE_SCHEDULE, step);
  const progress = step / FIXTURE_STEPS;
  const meanLength = Math.round(L * (0.55 + 0.05 * rand()));
  const accuracy = Math.min(0.95, 0.42 + 0.18 * progress + 0.04 * (rand() - 0.5) - 0.04 * (1 - L / 16384));
  const rollout = 40_000 + 20_000 * rand();
  const record: StepMetrics = {
    step,
    iteration: iterationAt(FIXTURE_SCHEDULE, step),
    phase: phaseAt(FIXTURE_SCHEDULE, step),
    maxTokens: L,
    rewardMean: accuracy,
    accuracy,
    meanLength,
    medianLength: Math.round(meanLength * 0.92),
    p90Length: Math.min(L, Math.round(meanLength * 1.6)),
    meanLengthCorrect: Math.round(meanLength * 0.85),
    meanLengthIncorrect: Math.round(meanLength * 1.2),
    truncationRate: Math.max(0, 0.12 - 0.1 * (L / 16384) + 0.02 * rand()),
    keptGroups: 100 + Math.floor(20 * rand()),
    droppedGroups: Math.floor(28 * rand()),
    loss: 0.01 * (rand() - 0.5),
    clipFracLow: 0.002 + 0.002 * rand(),
    clipFracHigh: 0.004 + 0.003 * rand(),
    entropy: 0.5 - 0.15 * progress + 0.05 * (L / 16384) + 0.02 * rand(),
    approxKl: 0.001 * rand(),
    gradNorm: 0.2 + 0.1 * rand(),
    tokens: meanLength * 512,
    tokensPerSecond: 9000 + 1000 * rand(),
    keywordsPer1k: { wait: 2 + rand(), 'hold on': 0.1, alternatively: 0.6, so: 9, compute: 0.4 },
    wallMs: { rollout, reward: 800, update: 30_000, step: rollout + 31_000 },
  };
  if (checkpointName) record.checkpointName = checkpointName;
  return record;
}

export interface FixtureLayout {
  root: string;
  runDir: string;
  baselineDirs: string[];
}

/**
 * Writes the synthetic inputs under `root`:
 *   root/siri-synthetic-run/   config.json, metrics.jsonl (60 steps), evals/{base,Iter1-…,…}/results.json
 *   root/baselines/DeepScaleR-like/results.json, root/baselines/LengthPenalty-like/results.json
 */
export async function writeFixtures(root: string): Promise<FixtureLayout> {
  const runDir = join(root, 'siri-synthetic-run');
  mkdirSync(runDir, { recursive: true });
  writeFileSync(
    join(runDir, 'config.json'),
    JSON.stringify(
      {
        fixture: FIXTURE_NOTE,
        modelDir: '/models/synthetic-base',
        runDir,
        schedule: FIXTURE_SCHEDULE,
        totalSteps: FIXTURE_STEPS,
        groupSize: 8,
        batchPrompts: 64,
      },
      null,
      2,
    ),
  );
  const rand = seededRandom(2509);
  const named = new Map(namedCheckpoints(FIXTURE_SCHEDULE, FIXTURE_STEPS).map((c) => [c.step, c.name]));
  const lines: string[] = [];
  for (let step = 0; step < FIXTURE_STEPS; step++) {
    const record = stepRecord(step, rand, named.get(step));
    if (step % 10 === 0 || step === FIXTURE_STEPS - 1)
      record.eval = trainingEvalSummary(step, rand, named.get(step) ?? null);
    lines.push(JSON.stringify(record));
  }
  writeFileSync(join(runDir, 'metrics.jsonl'), lines.join('\n') + '\n');
  let seed = 100;
  await writeSyntheticResults(join(runDir, 'evals', 'base'), {
    label: null,
    profile: CHECKPOINT_PROFILES.base!,
    seed: seed++,
    step: 0,
    checkpointName: 'base',
  });
  for (const c of namedCheckpoints(FIXTURE_SCHEDULE, FIXTURE_STEPS)) {
    await writeSyntheticResults(join(runDir, 'evals', c.name), {
      label: null,
      profile: CHECKPOINT_PROFILES[c.name]!,
      seed: seed++,
      step: c.step,
      checkpointName: c.name,
    });
  }
  const baselineDirs = [
    join(root, 'baselines', 'DeepScaleR-like'),
    join(root, 'baselines', 'LengthPenalty-like'),
  ];
  await writeSyntheticResults(baselineDirs[0]!, {
    label: 'DeepScaleR-like (synthetic)',
    profile: { accuracy: 1.28, length: 0.78, waitRate: 0.035 },
    seed: 900,
    step: null,
    checkpointName: null,
  });
  await writeSyntheticResults(baselineDirs[1]!, {
    label: 'LengthPenalty-like (synthetic)',
    profile: { accuracy: 0.97, length: 0.42, waitRate: 0.015 },
    seed: 901,
    step: null,
    checkpointName: null,
  });
  return { root, runDir, baselineDirs };
}
