// The toy data files (toy/data/): train.jsonl (the SFT problems of the base), train-long.jsonl (its 4- and
// 5-step chains: the `toy` run preset's RL set, whose concise solutions need more than lMin = 48 tokens; see
// docs/toy.md, "The SIRI experiment's world") and eval.jsonl (held out). One problem per line as
// {"problem", "answer", "key", "steps"}, from the seeded generator, so they can be re-made exactly.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateProblems, type Difficulty, type Problem } from './problems';

export interface ToyDataOptions {
  seed: number;
  trainCount: number;
  evalCount: number;
  difficulty?: Difficulty;
  /**
   * Seed of the held-out problems' stream (default `seed`): another seed gives a held-out set independent
   * of the base's own measurement problems. Train and held-out stay disjoint either way (splitOf).
   */
  evalSeed?: number;
}

export interface ToyDataRecord {
  problem: string;
  answer: string;
  key: string;
  steps: number;
}

export const toRecord = (p: Problem): ToyDataRecord => ({
  problem: p.problem,
  answer: p.answer,
  key: p.key,
  steps: p.steps.length,
});

export const toJsonl = (problems: readonly Problem[]): string =>
  problems.map((p) => JSON.stringify(toRecord(p))).join('\n') + '\n';

/** The RL training set keeps the chains of at least this many steps (train-long.jsonl). */
export const LONG_CHAIN_MIN_STEPS = 4;

/** The problems of train-long.jsonl: those of `train` with at least LONG_CHAIN_MIN_STEPS steps, in order. */
export const longChains = (train: readonly Problem[]): Problem[] =>
  train.filter((p) => p.steps.length >= LONG_CHAIN_MIN_STEPS);

/** Writes train.jsonl, train-long.jsonl and eval.jsonl into `dir`; returns the problems written. */
export function writeToyData(dir: string, options: ToyDataOptions): { train: Problem[]; eval: Problem[] } {
  const common = { seed: options.seed, ...(options.difficulty ? { difficulty: options.difficulty } : {}) };
  const train = generateProblems({ split: 'train', count: options.trainCount, ...common });
  const held = generateProblems({
    split: 'eval',
    count: options.evalCount,
    ...common,
    seed: options.evalSeed ?? options.seed,
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.jsonl'), toJsonl(train));
  writeFileSync(join(dir, 'train-long.jsonl'), toJsonl(longChains(train)));
  writeFileSync(join(dir, 'eval.jsonl'), toJsonl(held));
  return { train, eval: held };
}

export function readToyData(file: string): ToyDataRecord[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ToyDataRecord);
}
