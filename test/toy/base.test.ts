// The committed chain-world base checkpoints and their data files: toy/base/ with toy/data/ (3–5-step chains,
// the `toy` preset) and toy/leaping-base/ with toy/leaping-data/ (3–8-step chains, a teacher that sometimes
// leaps; the `toy-leaping` preset, docs/toy.md attempts 30–31), and toy/leaping-2layer-base/ (the same recipe and
// data with 2 layers instead of 4; the `toy-leaping-2layer` preset, attempt 35). Each is small enough to commit, has the
// tokenizer and config the toy code builds, loads in the engine, and is actually warm-started: its greedy
// answers to held-out problems keep the teacher's format and are mostly right (a random model's never are).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gradeResponse } from '../../grader/index';
import { longChains, readToyData, toRecord } from '../../toy/data';
import { TOY_MODEL_SHAPE, toyModelConfig, type ToyModelShape } from '../../toy/model-config';
import { DEFAULT_DIFFICULTY, generateProblems, type Difficulty } from '../../toy/problems';
import { buildToyTokenizerConfig, buildToyTokenizerJson } from '../../toy/tokenizer';
import { greedyTwice } from '../helpers/toy-greedy';

const root = join(import.meta.dirname, '../..');
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

interface ChainBase {
  base: string;
  data: string;
  difficulty: Difficulty;
  /** Where the model's shape differs from TOY_MODEL_SHAPE (make-toy-base.ts --shape). */
  shape?: Partial<ToyModelShape>;
  /** The seed of the held-out problems' stream (make-toy-base.ts --data-eval-seed). */
  evalSeed: number;
  /** Held-out problems answered greedily, and the share that must be right. */
  greedyProblems: number;
  minGreedyAccuracy: number;
}

const CHAIN_BASES: ChainBase[] = [
  {
    base: 'toy/base',
    data: 'toy/data',
    difficulty: DEFAULT_DIFFICULTY,
    evalSeed: 0,
    greedyProblems: 24,
    minGreedyAccuracy: 0.4,
  },
  // Measured at T = 0.6: 78% right (docs/toy.md, attempt 30 b); greedy decoding leaps less often.
  {
    base: 'toy/leaping-base',
    data: 'toy/leaping-data',
    difficulty: { ...DEFAULT_DIFFICULTY, maxSteps: 8 },
    evalSeed: 7,
    greedyProblems: 24,
    minGreedyAccuracy: 0.7,
  },
  // Measured at T = 0.6: 65% right at 384 tokens (docs/toy.md, attempt 35).
  {
    base: 'toy/leaping-2layer-base',
    data: 'toy/leaping-data',
    difficulty: { ...DEFAULT_DIFFICULTY, maxSteps: 8 },
    shape: { layers: 2 },
    evalSeed: 7,
    greedyProblems: 24,
    minGreedyAccuracy: 0.5,
  },
];

for (const chainBase of CHAIN_BASES) describeChainBase(chainBase);

function describeChainBase(options: ChainBase): void {
  const { base, data, difficulty, evalSeed } = options;
  const baseDir = join(root, base);
  const dataDir = join(root, data);
  describe(
    `toy base checkpoint ${base}`,
    { skip: !existsSync(join(baseDir, 'manifest.json')) && `${base} not made yet` },
    () => {
      test('at most 5 MB, with the toy tokenizer, config and generation files', () => {
        const files = readdirSync(baseDir);
        for (const name of [
          'config.json',
          'model.safetensors',
          'tokenizer.json',
          'tokenizer_config.json',
          'generation_config.json',
        ]) {
          assert.ok(files.includes(name), `${name} missing`);
        }
        assert.ok(!files.includes('optimizer.safetensors'), 'the base carries no optimizer state');
        const bytes = files.reduce((n, f) => n + statSync(join(baseDir, f)).size, 0);
        assert.ok(bytes <= 5 * 1024 * 1024, `${bytes} bytes`);
        assert.deepEqual(readJson(join(baseDir, 'tokenizer.json')), buildToyTokenizerJson());
        assert.deepEqual(readJson(join(baseDir, 'tokenizer_config.json')), buildToyTokenizerConfig());
        const config = readJson(join(baseDir, 'config.json')) as Record<string, unknown>;
        const shape = { ...TOY_MODEL_SHAPE, ...options.shape };
        for (const [key, value] of Object.entries(toyModelConfig(shape))) {
          if (value !== null) assert.deepEqual(config[key], value, `config.json ${key}`);
        }
      });

      test('the data files are the seeded problems, train and held-out disjoint', () => {
        const train = readToyData(join(dataDir, 'train.jsonl'));
        const held = readToyData(join(dataDir, 'eval.jsonl'));
        const trainProblems = generateProblems({ split: 'train', count: train.length, seed: 0, difficulty });
        assert.deepEqual(train, trainProblems.map(toRecord));
        assert.deepEqual(
          held,
          generateProblems({ split: 'eval', count: held.length, seed: evalSeed, difficulty }).map(toRecord),
        );
        assert.deepEqual(
          readToyData(join(dataDir, 'train-long.jsonl')),
          longChains(trainProblems).map(toRecord),
        );
        const trainKeys = new Set(train.map((r) => r.key));
        assert.ok(held.every((r) => !trainKeys.has(r.key)));
        const steps = new Set(train.map((r) => r.steps));
        assert.deepEqual(
          [...steps].sort((a, b) => a - b),
          Array.from(
            { length: difficulty.maxSteps - difficulty.minSteps + 1 },
            (_, i) => difficulty.minSteps + i,
          ),
        );
      });

      test('greedy answers on held-out problems: teacher format, mostly right, reproducible', async () => {
        const problems = readToyData(join(dataDir, 'eval.jsonl')).slice(0, options.greedyProblems);
        const run = await greedyTwice(
          baseDir,
          problems.map((p) => p.problem),
          384,
        );
        let correct = 0;
        run.texts.forEach((text, i) => {
          assert.equal(run.finishReasons[i], 'stop', text);
          assert.ok(
            text.startsWith('<think>\n') && /\n<\/think>\nThe answer is \\boxed\{\d+\}\.$/.test(text),
            text,
          );
          if (gradeResponse(text, problems[i]!.answer).correct) correct += 1;
        });
        assert.ok(
          correct / problems.length >= options.minGreedyAccuracy,
          `greedy accuracy ${correct}/${problems.length}`,
        );
        assert.deepEqual(run.repeatTokenIds, run.tokenIds);
      });
    },
  );
}
