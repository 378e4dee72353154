// The committed pick-world bases — toy/pick-base/ (four candidates, 2-step chains; docs/toy.md attempt 21) and
// toy/pick-steps-base/ (three candidates, 2–4-step chains; attempt 27), each with its data: small enough to
// commit, the pick tokenizer and config, the seed-0 problems, and actually warm-started — their greedy
// responses keep the teacher's format, only ever name a listed candidate, compute their tries right (checked
// here with this test's own arithmetic) and are right more often than a blind guess among the candidates.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gradeResponse } from '../../grader/index';
import { readToyData, toRecord } from '../../toy/data';
import { toyModelConfig } from '../../toy/model-config';
import {
  generatePickProblems,
  PICK_DIFFICULTY,
  PICK_WORDS,
  tryLineRight,
  type PickDifficulty,
} from '../../toy/pick';
import { buildToyTokenizerJson } from '../../toy/tokenizer';
import { greedyTwice } from '../helpers/toy-greedy';

const root = join(import.meta.dirname, '../..');
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

interface PickBase {
  base: string;
  data: string;
  difficulty: PickDifficulty;
  /** Greedy responses may run this long (the longest teacher path fits). */
  maxNewTokens: number;
  /** Greedy hits out of 48 that a blind guess would reach only far out in its tail. */
  minCorrect: number;
}

const PICK_BASES: PickBase[] = [
  // A blind guess among four is right 12 times in 48 (standard deviation 3).
  {
    base: 'toy/pick-base',
    data: 'toy/pick-data',
    difficulty: PICK_DIFFICULTY,
    maxNewTokens: 128,
    minCorrect: 20,
  },
  // Among three, 16 in 48 (standard deviation 3.3).
  {
    base: 'toy/pick-steps-base',
    data: 'toy/pick-steps-data',
    difficulty: { ...PICK_DIFFICULTY, candidates: 3, minSteps: 2, maxSteps: 4 },
    maxNewTokens: 160,
    minCorrect: 26,
  },
];

for (const pickBase of PICK_BASES) describePickBase(pickBase);

function describePickBase({ base, data, difficulty, maxNewTokens, minCorrect }: PickBase): void {
  const baseDir = join(root, base);
  const dataDir = join(root, data);
  describe(
    `toy pick-world base checkpoint ${base}`,
    { skip: !existsSync(join(baseDir, 'manifest.json')) && `${base} not made yet` },
    () => {
      test('at most 5 MB, with the pick tokenizer and the toy model config', () => {
        const files = readdirSync(baseDir);
        assert.ok(!files.includes('optimizer.safetensors'), 'the base carries no optimizer state');
        const bytes = files.reduce((n, f) => n + statSync(join(baseDir, f)).size, 0);
        assert.ok(bytes <= 5 * 1024 * 1024, `${bytes} bytes`);
        assert.deepEqual(readJson(join(baseDir, 'tokenizer.json')), buildToyTokenizerJson(PICK_WORDS));
        const config = readJson(join(baseDir, 'config.json')) as Record<string, unknown>;
        assert.equal(config.vocab_size, toyModelConfig(undefined, PICK_WORDS).vocab_size);
      });

      test('the data files are the seed-0 pick problems, disjoint', () => {
        const train = readToyData(join(dataDir, 'train.jsonl'));
        const held = readToyData(join(dataDir, 'eval.jsonl'));
        assert.deepEqual(
          train,
          generatePickProblems({ split: 'train', count: train.length, seed: 0, difficulty }).map(toRecord),
        );
        assert.deepEqual(
          held,
          generatePickProblems({ split: 'eval', count: held.length, seed: 0, difficulty }).map(toRecord),
        );
        const trainKeys = new Set(train.map((r) => r.key));
        assert.ok(held.every((r) => !trainKeys.has(r.key)));
      });

      test('greedy responses: teacher format, listed candidates, right arithmetic, better than a guess', async () => {
        const problems = readToyData(join(dataDir, 'eval.jsonl')).slice(0, 48);
        const run = await greedyTwice(
          baseDir,
          problems.map((p) => p.problem),
          maxNewTokens,
        );
        let correct = 0;
        let tryLines = 0;
        let rightTryLines = 0;
        run.texts.forEach((text, i) => {
          assert.equal(run.finishReasons[i], 'stop', text);
          const boxed = /^<think>\n[^]*\n<\/think>\nThe answer is \\boxed\{(\d+)\}\.$/.exec(text);
          assert.ok(boxed, text);
          const listed = /^Start with a number: ([\d, ]+) or (\d+)\./.exec(problems[i]!.problem);
          assert.ok(listed);
          const candidates = [...(listed[1] as string).split(', '), listed[2]];
          assert.ok(candidates.includes(boxed[1]), `${boxed[1]} is not listed in ${problems[i]!.problem}`);
          for (const line of text.split('\n').filter((l) => l.startsWith('Try '))) {
            tryLines += 1;
            if (tryLineRight(line)) rightTryLines += 1;
          }
          if (gradeResponse(text, problems[i]!.answer).correct) correct += 1;
        });
        assert.ok(correct >= minCorrect, `greedy accuracy ${correct}/${problems.length}`);
        assert.ok(
          tryLines >= 24 && rightTryLines / tryLines >= 0.9,
          `${rightTryLines}/${tryLines} tries right`,
        );
        assert.deepEqual(run.repeatTokenIds, run.tokenIds);
      });
    },
  );
}
