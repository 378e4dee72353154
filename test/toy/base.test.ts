// The committed toy base checkpoint (toy/base/) and data files (toy/data/): small enough to commit, the
// tokenizer and config the toy code builds, loadable by the engine, and actually warm-started: its greedy
// answers to held-out problems keep the teacher's format and are mostly right (a random model's never are).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gradeResponse } from '../../grader/index';
import { longChains, readToyData, toRecord } from '../../toy/data';
import { toyModelConfig } from '../../toy/model-config';
import { generateProblems } from '../../toy/problems';
import { buildToyTokenizerConfig, buildToyTokenizerJson } from '../../toy/tokenizer';
import { greedyTwice } from '../helpers/toy-greedy';

const root = join(import.meta.dirname, '../..');
const baseDir = join(root, 'toy/base');
const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

describe(
  'toy base checkpoint',
  { skip: !existsSync(join(baseDir, 'manifest.json')) && 'toy/base not made yet' },
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
      for (const [key, value] of Object.entries(toyModelConfig())) {
        if (value !== null) assert.deepEqual(config[key], value, `config.json ${key}`);
      }
    });

    test('the data files are the seed-0 problems', () => {
      const train = readToyData(join(root, 'toy/data/train.jsonl'));
      const held = readToyData(join(root, 'toy/data/eval.jsonl'));
      assert.deepEqual(
        train,
        generateProblems({ split: 'train', count: train.length, seed: 0 }).map(toRecord),
      );
      assert.deepEqual(held, generateProblems({ split: 'eval', count: held.length, seed: 0 }).map(toRecord));
      assert.deepEqual(
        readToyData(join(root, 'toy/data/train-long.jsonl')),
        longChains(generateProblems({ split: 'train', count: train.length, seed: 0 })).map(toRecord),
      );
      const trainKeys = new Set(train.map((r) => r.key));
      assert.ok(held.every((r) => !trainKeys.has(r.key)));
    });

    test('greedy answers on held-out problems: teacher format, mostly right, reproducible', async () => {
      const problems = readToyData(join(root, 'toy/data/eval.jsonl')).slice(0, 24);
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
      assert.ok(correct / problems.length >= 0.4, `greedy accuracy ${correct}/${problems.length}`);
      assert.deepEqual(run.repeatTokenIds, run.tokenIds);
    });
  },
);
