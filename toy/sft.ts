// Supervised warm start of the toy policy on teacher traces, with our engine (`sft` loss): examples are
// prompt tokens (masked out) + response tokens (trained) + EOS, batches drawn by a seeded shuffle, AdamW with
// linear warm-up then cosine decay of the learning rate. Used by scripts/make-toy-base.ts.
import { Policy, type TrainStepResult } from '../native/index';
import type { Problem } from './problems';
import { Rng } from './random';
import { writeTraces, type TeacherOptions } from './teacher';
import type { ToyTokenizer } from './tokenizer';

/** The prompt the toy policy sees: the problem statement as is (the `raw` template); the response opens with <think>. */
export function toyPromptIds(tokenizer: ToyTokenizer, problem: string): number[] {
  return tokenizer.encode(problem);
}

export interface SftExample {
  /** Prompt + response + EOS. */
  ids: number[];
  /** 0 on prompt tokens, 1 on response tokens and the EOS. */
  mask: number[];
}

export function sftExample(tokenizer: ToyTokenizer, problem: string, response: string): SftExample {
  const prompt = toyPromptIds(tokenizer, problem);
  const answer = [...tokenizer.encode(response), tokenizer.eosId];
  return { ids: [...prompt, ...answer], mask: [...prompt.map(() => 0), ...answer.map(() => 1)] };
}

/** One teacher trace per problem (seeded per problem), as SFT examples. */
export function sftExamples(
  tokenizer: ToyTokenizer,
  problems: readonly Problem[],
  teacherSeed: number,
  teacher?: TeacherOptions,
): SftExample[] {
  const traces = writeTraces(problems, teacherSeed, teacher);
  return problems.map((p, i) => sftExample(tokenizer, p.problem, traces[i]!.text));
}

/** SFT examples from given responses (`responses[i]` answers `problems[i]`), e.g. another world's teacher. */
export function sftExamplesFromTexts(
  tokenizer: ToyTokenizer,
  problems: readonly Problem[],
  responses: readonly string[],
): SftExample[] {
  return problems.map((p, i) => sftExample(tokenizer, p.problem, responses[i] as string));
}

export interface SftOptions {
  steps: number;
  batchSize: number;
  /** Peak learning rate. */
  lr: number;
  /** Share of the steps spent warming the rate up linearly from 0. */
  warmupFraction: number;
  /** The rate decays along a half cosine from lr to lr · finalLrFraction. */
  finalLrFraction: number;
  betas: [number, number];
  weightDecay: number;
  gradClip: number;
  microBatchTokens: number;
  /** Seed of the batch order. */
  seed: number;
}

/**
 * lr(s) = lr · s/W for s < W (W = warm-up steps), then
 * lr · (f + (1 − f) · ½(1 + cos(π (s − W)/(S − W)))) — cosine decay to the fraction f.
 */
export function sftLearningRate(
  step: number,
  o: Pick<SftOptions, 'steps' | 'lr' | 'warmupFraction' | 'finalLrFraction'>,
): number {
  const warmup = Math.max(1, Math.round(o.steps * o.warmupFraction));
  if (step < warmup) return (o.lr * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, o.steps - warmup));
  return o.lr * (o.finalLrFraction + (1 - o.finalLrFraction) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Batches of example indices: epochs of a seeded permutation, cut into batches (an epoch's tail joins the next). */
export function batchOrder(count: number, batchSize: number, steps: number, seed: number): number[][] {
  const rng = new Rng(seed).fork('toy-sft-order');
  const indices = Array.from({ length: count }, (_, i) => i);
  const batches: number[][] = [];
  let pool: number[] = [];
  while (batches.length < steps) {
    if (pool.length < batchSize) pool = pool.concat(rng.shuffle(indices));
    batches.push(pool.slice(0, batchSize));
    pool = pool.slice(batchSize);
  }
  return batches;
}

export interface SftProgress {
  step: number;
  lr: number;
  result: TrainStepResult;
  tokensPerSecond: number;
}

/** Runs the SFT steps on `policy`; `onStep` sees every step's result. */
export async function runSft(
  policy: Policy,
  examples: readonly SftExample[],
  options: SftOptions,
  onStep?: (progress: SftProgress) => void | Promise<void>,
): Promise<void> {
  const batches = batchOrder(examples.length, options.batchSize, options.steps, options.seed);
  for (let step = 0; step < options.steps; step++) {
    const batch = (batches[step] as number[]).map((i) => examples[i] as SftExample);
    const lr = sftLearningRate(step, options);
    const started = performance.now();
    const result = await policy.trainStep(
      { sequences: batch.map((e) => e.ids), responseMask: batch.map((e) => e.mask) },
      {
        loss: 'sft',
        lossAggregation: 'token-mean',
        lr,
        betas: options.betas,
        weightDecay: options.weightDecay,
        gradClip: options.gradClip,
        microBatchTokens: options.microBatchTokens,
      },
    );
    const tokens = batch.reduce((n, e) => n + e.ids.length, 0);
    await onStep?.({ step, lr, result, tokensPerSecond: (tokens * 1000) / (performance.now() - started) });
  }
}
