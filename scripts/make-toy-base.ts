// Makes the toy world's base checkpoint (toy/base/) and data files (toy/data/) from a seed:
// problems → teacher overthinking traces → SFT of a tiny random Qwen2 with our engine (`sft` loss, prompt
// masked) → save (weights, tokenizer.json, generation_config.json) → measure on held-out problems (k samples
// at temperature 0.6 with a generous budget): accuracy, length distribution, truncation per budget.
// Usage: npx tsx scripts/make-toy-base.ts [--seed 0] [--out toy/base] [--steps N] ... (see --help)
// Same seed, same thread count ⇒ the same checkpoint.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Policy } from '../native/index';
import { toJsonl, writeToyData } from '../toy/data';
import { sampleAndGrade, summarize, type MeasureOptions } from '../toy/measure';
import {
  TOY_MODEL_SHAPE,
  toyGenerationConfig,
  toyModelConfig,
  type ToyModelShape,
} from '../toy/model-config';
import { DEFAULT_DIFFICULTY, generateProblems, type Difficulty, type Problem } from '../toy/problems';
import { Rng } from '../toy/random';
import {
  generatePickProblems,
  PICK_DIFFICULTY,
  PICK_TEACHER,
  PICK_WORDS,
  writePickTraces,
  type PickDifficulty,
  type PickProblem,
  type PickTeacherOptions,
} from '../toy/pick';
import { generateSearchProblems, SEARCH_TEACHER, SEARCH_WORDS, writeSearchTraces } from '../toy/search';
import { runSft, sftExamples, sftExamplesFromTexts, type SftOptions } from '../toy/sft';
import { TEACHER_PRESETS, writeTraces, type TeacherOptions } from '../toy/teacher';
import {
  buildToyTokenizerConfig,
  buildToyTokenizerJson,
  ToyTokenizer,
  writeToyTokenizer,
} from '../toy/tokenizer';

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '0' },
    out: { type: 'string', default: 'toy/base' },
    'data-dir': { type: 'string', default: 'toy/data' },
    'stats-file': { type: 'string', default: 'toy/base-stats.json' },
    'train-problems': { type: 'string', default: '24000' },
    'data-train': { type: 'string', default: '2000' },
    'data-eval': { type: 'string', default: '200' },
    'data-eval-seed': { type: 'string' },
    steps: { type: 'string', default: '1500' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '3e-3' },
    threads: { type: 'string', default: '2' },
    'measure-problems': { type: 'string', default: '200' },
    samples: { type: 'string', default: '4' },
    'max-new-tokens': { type: 'string', default: '512' },
    'eval-every': { type: 'string', default: '0' },
    difficulty: { type: 'string', default: '{}' },
    shape: { type: 'string', default: '{}' },
    teacher: { type: 'string', default: '{}' },
    'teacher-preset': { type: 'string', default: 'default' },
    world: { type: 'string', default: 'chains' },
    'pick-candidates': { type: 'string' },
    'pick-miss-weights': { type: 'string' },
    'pick-steps': { type: 'string' },
    'measure-only': { type: 'boolean', default: false },
    'init-from': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(
    'npx tsx scripts/make-toy-base.ts [--seed 0] [--out toy/base] [--data-dir toy/data] [--steps 1500] [--batch 32]\n' +
      '  [--lr 3e-3] [--threads 2] [--train-problems 24000] [--data-train 2000] [--data-eval 200]\n' +
      '  [--data-eval-seed N] (chain world: draw eval.jsonl from seed N instead of --seed)\n' +
      '  [--measure-problems 200] [--samples 4]' +
      '  [--max-new-tokens 512] [--eval-every 0] [--difficulty JSON] [--shape JSON]\n' +
      '  [--teacher-preset default|verifying|decomposing|leaping] [--teacher JSON (overrides the preset)] [--measure-only]\n' +
      '  [--world chains|search|pick] (search: toy/search.ts, pick: toy/pick.ts; pass --out, --data-dir and\n' +
      '  --stats-file of their own) [--pick-candidates N] [--pick-miss-weights w0,w1,...] (pick world: candidates\n' +
      "  per problem, default 4; the teacher's weights over misses allowed before committing, default 2,2,3,3)\n" +
      '  [--pick-steps MIN,MAX] (pick world: steps per chain, one of them a multiplication; default 2,2)\n' +
      '  [--init-from DIR] (continue SFT from that checkpoint instead of a fresh init;\n' +
      "  its vocabulary must be this world's)",
  );
  process.exit(0);
}

const int = (name: string, text: string | undefined): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return value;
};

const seed = int('seed', args.seed);
const threads = int('threads', args.threads);
const difficulty: Difficulty = {
  ...DEFAULT_DIFFICULTY,
  ...(JSON.parse(args.difficulty) as object),
};
const shape: ToyModelShape = { ...TOY_MODEL_SHAPE, ...(JSON.parse(args.shape) as object) };
const teacherPreset = TEACHER_PRESETS[args['teacher-preset']];
if (teacherPreset === undefined)
  throw new Error(`--teacher-preset must be one of ${Object.keys(TEACHER_PRESETS).join(', ')}`);
const teacher: TeacherOptions = { ...teacherPreset, ...(JSON.parse(args.teacher) as object) };
const outDir = resolve(args.out);
if (args.world !== 'chains' && args.world !== 'search' && args.world !== 'pick')
  throw new Error(`--world must be chains, search or pick, got ${args.world}`);
const searchWorld = args.world === 'search';
const pickWorld = args.world === 'pick';
/** The worlds whose problems and data files are fixed by the seed alone (no --difficulty or --teacher). */
const fixedWorld = searchWorld || pickWorld;
if (fixedWorld && args['data-eval-seed'] !== undefined)
  throw new Error(`--data-eval-seed applies to the chain world only (--world ${args.world} has fixed data)`);
const extraWords = searchWorld ? SEARCH_WORDS : pickWorld ? PICK_WORDS : [];

/** `--pick-steps MIN,MAX`: how many steps a pick chain has (a try's length grows with them); default the world's 2,2. */
function pickStepRange(): { minSteps: number; maxSteps: number } {
  const text = args['pick-steps'];
  if (text === undefined) return { minSteps: PICK_DIFFICULTY.minSteps, maxSteps: PICK_DIFFICULTY.maxSteps };
  const [minSteps, maxSteps, ...rest] = text.split(',').map(Number);
  if (
    rest.length > 0 ||
    !Number.isInteger(minSteps) ||
    !Number.isInteger(maxSteps) ||
    (minSteps ?? 0) < 1 ||
    (maxSteps ?? 0) < (minSteps ?? 0)
  ) {
    throw new Error(`--pick-steps must be MIN,MAX with 1 <= MIN <= MAX (e.g. 2,4), got "${text}"`);
  }
  return { minSteps: minSteps as number, maxSteps: maxSteps as number };
}

/** The pick world's difficulty and teacher: the defaults of toy/pick.ts unless --pick-candidates / --pick-miss-weights. */
function pickWorldOptions(): { difficulty: PickDifficulty; teacher: PickTeacherOptions } {
  const candidatesText = args['pick-candidates'];
  const candidates =
    candidatesText === undefined ? PICK_DIFFICULTY.candidates : int('pick-candidates', candidatesText);
  if (candidates < 2) throw new Error(`--pick-candidates must be at least 2, got ${candidates}`);
  const difficulty = { ...PICK_DIFFICULTY, candidates, ...pickStepRange() };
  const weightsText = args['pick-miss-weights'];
  if (weightsText === undefined) return { difficulty, teacher: PICK_TEACHER };
  const missWeights = weightsText.split(',').map(Number);
  if (
    missWeights.length !== candidates ||
    missWeights.some((w) => !(w >= 0) || !Number.isFinite(w)) ||
    !missWeights.some((w) => w > 0)
  ) {
    throw new Error(
      `--pick-miss-weights must be ${candidates} non-negative numbers (one per number of misses 0 … ${candidates - 1}), ` +
        `not all zero, e.g. ${Array(candidates).fill(1).join(',')}; got "${weightsText}"`,
    );
  }
  return { difficulty, teacher: { missWeights } };
}
const pick = pickWorldOptions();

// Every random choice hangs off the one seed: named sub-streams give the sub-seeds.
const root = new Rng(seed);
const subSeed = (label: string): number => root.fork(label).nextUint32() >>> 1;
const seeds = {
  problems: seed,
  teacher: subSeed('teacher'),
  init: subSeed('init'),
  order: subSeed('order'),
  measure: subSeed('measure'),
};

const tokenizer = new ToyTokenizer(buildToyTokenizerJson(extraWords));

/** The world's problems of one split (the chain world's take --difficulty; the search world's are fixed). */
const problemsOf = (split: 'train' | 'eval', count: number, problemSeed = seeds.problems): Problem[] =>
  searchWorld
    ? generateSearchProblems({ split, count, seed: problemSeed })
    : pickWorld
      ? generatePickProblems({ split, count, seed: problemSeed, difficulty: pick.difficulty })
      : generateProblems({ split, count, seed: problemSeed, difficulty });

/** The world's teacher traces (text) for `problems`. */
const traceTexts = (problems: readonly Problem[]): string[] =>
  searchWorld
    ? writeSearchTraces(problems, seeds.teacher).map((t) => t.text)
    : pickWorld
      ? writePickTraces(problems as PickProblem[], seeds.teacher, pick.teacher).map((t) => t.text)
      : writeTraces(problems, seeds.teacher, teacher).map((t) => t.text);
const measureOptions: MeasureOptions = {
  samples: int('samples', args.samples),
  temperature: 0.6,
  topP: 0.95,
  maxNewTokens: int('max-new-tokens', args['max-new-tokens']),
  seed: seeds.measure,
  budgets: [64, 96, 128, 144, 160, 192, 224, 256, 288, 320, 384],
  maxBatch: 512,
};
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)}s`;

/** Token lengths (response + EOS) of teacher traces, for comparison with the model's. */
function teacherLengths(problems: readonly Problem[]): number[] {
  return traceTexts(problems).map((text) => tokenizer.encode(text).length + 1);
}

/** The search and pick worlds' data files: train.jsonl (the RL set) and eval.jsonl (held out), as toy/data.ts writes its own. */
function writeFixedWorldData(dir: string): { train: Problem[]; eval: Problem[] } {
  const train = problemsOf('train', int('data-train', args['data-train']));
  const held = problemsOf('eval', int('data-eval', args['data-eval']));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(train));
  writeFileSync(join(dir, 'eval.jsonl'), toJsonl(held));
  return { train, eval: held };
}

/**
 * The model SFT starts from: a fresh seeded init, or (--init-from DIR) a checkpoint to train further on the
 * same traces — e.g. a base whose arithmetic should be sharpened before RL. The checkpoint's vocabulary must
 * be this world's tokenizer, or the ids would mean other words.
 */
async function startingPolicy(): Promise<Policy> {
  const initFrom = args['init-from'];
  if (initFrom === undefined) {
    const config = { ...toyModelConfig(shape, extraWords) } as Parameters<typeof Policy.init>[0];
    return Policy.init(config, { seed: seeds.init, threads, dtype: 'float32' });
  }
  const policy = await Policy.load(resolve(initFrom), { threads, optimizer: true });
  const worldVocab = Number(toyModelConfig(shape, extraWords).vocab_size);
  if (policy.config.vocab_size !== worldVocab) {
    policy.dispose();
    throw new Error(
      `--init-from ${initFrom}: vocab_size ${String(policy.config.vocab_size)} is not this world's ` +
        `(${String(worldVocab)}); pass a checkpoint made with --world ${args.world}`,
    );
  }
  return policy;
}

async function train(): Promise<void> {
  const data = fixedWorld
    ? writeFixedWorldData(resolve(args['data-dir']))
    : writeToyData(resolve(args['data-dir']), {
        seed: seeds.problems,
        trainCount: int('data-train', args['data-train']),
        evalCount: int('data-eval', args['data-eval']),
        difficulty,
        ...(args['data-eval-seed'] === undefined
          ? {}
          : { evalSeed: int('data-eval-seed', args['data-eval-seed']) }),
      });
  console.log(
    `data: ${data.train.length} train / ${data.eval.length} held-out problems in ${args['data-dir']}`,
  );

  const trainProblems = problemsOf('train', int('train-problems', args['train-problems']));
  const examples = fixedWorld
    ? sftExamplesFromTexts(tokenizer, trainProblems, traceTexts(trainProblems))
    : sftExamples(tokenizer, trainProblems, seeds.teacher, teacher);
  const tokens = examples.reduce((n, e) => n + e.ids.length, 0);
  console.log(
    `sft: ${examples.length} teacher traces, ${tokens} tokens (${(tokens / examples.length).toFixed(1)} per example)`,
  );

  const policy = await startingPolicy();
  console.log(`model: ${policy.numParameters()} parameters, ${JSON.stringify(shape)}`);

  const sft: SftOptions = {
    steps: int('steps', args.steps),
    batchSize: int('batch', args.batch),
    lr: Number(args.lr),
    warmupFraction: 0.05,
    finalLrFraction: 0.1,
    betas: [0.9, 0.95],
    weightDecay: 0.01,
    gradClip: 1.0,
    microBatchTokens: 16384,
    seed: seeds.order,
  };
  const evalEvery = int('eval-every', args['eval-every']);
  const quickEval = problemsOf('eval', 64, seeds.problems + 1);
  let lossSum = 0;
  let lossCount = 0;
  await runSft(policy, examples, sft, async ({ step, lr, result, tokensPerSecond }) => {
    lossSum += result.loss;
    lossCount += 1;
    if ((step + 1) % 25 === 0 || step === sft.steps - 1) {
      console.log(
        `step ${step + 1}/${sft.steps} loss ${(lossSum / lossCount).toFixed(4)} lr ${lr.toExponential(2)} ` +
          `grad ${result.gradNorm.toFixed(2)} ${tokensPerSecond.toFixed(0)} tok/s ${elapsed()}`,
      );
      lossSum = 0;
      lossCount = 0;
    }
    if (evalEvery > 0 && (step + 1) % evalEvery === 0 && step + 1 < sft.steps) {
      const quick = summarize(
        await sampleAndGrade(policy, tokenizer, quickEval, { ...measureOptions, samples: 1 }),
        quickEval,
        [],
      );
      console.log(
        `  quick eval (64 problems, 1 sample): accuracy ${quick.accuracy.toFixed(3)} mean length ${quick.meanLength.toFixed(1)}`,
      );
    }
  });

  // Save through a staging directory so the tokenizer and generation files land in the checkpoint's manifest.
  const staging = mkdtempSync(join(resolve(outDir, '..'), '.toy-base-staging-'));
  try {
    await policy.save(staging, { optimizer: false, weightsDtype: 'float32' });
    writeToyTokenizer(staging, extraWords);
    writeFileSync(
      join(staging, 'generation_config.json'),
      JSON.stringify(toyGenerationConfig(), null, 2) + '\n',
    );
    const reloaded = await Policy.load(staging, { threads, optimizer: false });
    await reloaded.save(outDir, { optimizer: false, weightsDtype: 'float32' });
    reloaded.dispose();
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  policy.dispose();
  console.log(`saved ${outDir} (${elapsed()})`);
}

async function measure(): Promise<void> {
  const policy = await Policy.load(outDir, { threads, optimizer: false });
  const problems = problemsOf('eval', int('measure-problems', args['measure-problems']));
  const records = await sampleAndGrade(policy, tokenizer, problems, measureOptions);
  const base = summarize(records, problems, measureOptions.budgets);
  // The same at the rollout temperature (1.0, no nucleus): what the length budgets cut during training.
  const rolloutOptions = { ...measureOptions, temperature: 1.0, topP: 1.0 };
  const rollout = summarize(
    await sampleAndGrade(policy, tokenizer, problems, rolloutOptions),
    problems,
    measureOptions.budgets,
  );
  const teacherLens = teacherLengths(problems).sort((a, b) => a - b);
  const teacherSummary = {
    meanLength: teacherLens.reduce((a, b) => a + b, 0) / teacherLens.length,
    median: teacherLens[Math.floor(teacherLens.length / 2)],
    budgets: measureOptions.budgets.map((b) => ({
      budget: b,
      truncated: teacherLens.filter((l) => l > b).length / teacherLens.length,
    })),
  };
  policy.dispose();
  const stats = {
    world: args.world,
    seed,
    seeds,
    threads,
    shape,
    // How the measured checkpoint was trained in this invocation (null with --measure-only).
    sft: args['measure-only']
      ? null
      : {
          steps: Number(args.steps),
          batch: Number(args.batch),
          lr: Number(args.lr),
          initFrom: args['init-from'] ?? null,
        },
    ...(searchWorld
      ? { searchTeacher: SEARCH_TEACHER }
      : pickWorld
        ? { pickDifficulty: pick.difficulty, pickTeacher: pick.teacher }
        : { difficulty, teacher }),
    tokenizerVocab: tokenizer.vocabSize,
    tokenizerConfig: buildToyTokenizerConfig(),
    measure: { ...measureOptions, problems: problems.length },
    base,
    rolloutTemperature: { temperature: 1.0, topP: 1.0, ...rollout },
    teacherOnSameProblems: teacherSummary,
    examples: records.slice(0, 3).map((r) => ({ problem: problems[r.problem]?.problem, response: r.text })),
  };
  writeFileSync(resolve(args['stats-file']), JSON.stringify(stats, null, 2) + '\n');
  console.log(
    `held-out: accuracy ${base.accuracy.toFixed(3)} over ${base.samples} samples, mean length ${base.meanLength.toFixed(1)}, ` +
      `hit limit ${base.hitLimit.toFixed(3)}, percentiles ${JSON.stringify(base.percentiles)}`,
  );
  console.log(
    `at temperature 1.0: accuracy ${rollout.accuracy.toFixed(3)}, mean length ${rollout.meanLength.toFixed(1)}, ` +
      `percentiles ${JSON.stringify(rollout.percentiles)}`,
  );
  base.budgets.forEach((row, i) => {
    const t = teacherSummary.budgets[i]?.truncated ?? 0;
    const r = rollout.budgets[i];
    console.log(
      `  budget ${row.budget}: truncates ${(100 * row.truncated).toFixed(1)}% at T=0.6 (accuracy ${row.accuracy.toFixed(3)}), ` +
        `${(100 * (r?.truncated ?? 0)).toFixed(1)}% at T=1.0, teacher ${(100 * t).toFixed(1)}%`,
    );
  });
  console.log(
    `  re-checks per response ${base.meanRechecks.toFixed(2)}; "Wait" per response: correct ${base.meanWaits.correct.toFixed(2)}, incorrect ${base.meanWaits.incorrect.toFixed(2)}`,
  );
  console.log(`  accuracy by steps ${JSON.stringify(base.accuracyBySteps)}`);
  for (const [name, s] of [
    ['T=0.6', base],
    ['T=1.0', rollout],
  ] as const) {
    console.log(
      `  ${name}: accuracy by re-checks ${JSON.stringify(s.accuracyByRechecks)}; self-corrections ` +
        `${s.selfCorrections.responses} (${s.selfCorrections.correct} ended right)`,
    );
  }
  console.log(`stats in ${args['stats-file']} (${elapsed()})`);
}

if (!args['measure-only']) await train();
await measure();
