// The run config schema: presets, defaults, preset overrides, and error messages that list every bad
// field with its path and the expected value; unknown keys are errors at every level.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PRESETS,
  RunConfigError,
  mergeOverrides,
  parseRunConfig,
  presetConfig,
  presetNames,
  safeParseRunConfig,
  tokenizerDirOf,
  type ConfigIssue,
} from '../../siri/config';

function issuesOf(value: unknown): ConfigIssue[] {
  const parsed = safeParseRunConfig(value);
  assert.equal(parsed.ok, false, 'expected the config to be rejected');
  return parsed.ok ? [] : parsed.issues;
}

function messageAt(issues: ConfigIssue[], path: string): string {
  const found = issues.find((i) => i.path === path);
  assert.ok(found, `no issue at ${path}; got ${JSON.stringify(issues)}`);
  return found.message;
}

describe('presets', () => {
  test('the presets exist and validate to themselves', () => {
    assert.deepEqual(
      [...presetNames],
      [
        'siri-1.5b',
        'toy',
        'toy-pick',
        'toy-pick-steps',
        'toy-leaping',
        'toy-leaping-long',
        'toy-leaping-lmin48',
        'toy-leaping-2layer',
      ],
    );
    for (const name of presetNames) assert.deepEqual(parseRunConfig(PRESETS[name]), PRESETS[name]);
  });

  test('siri-1.5b carries the paper settings', () => {
    const c = PRESETS['siri-1.5b'];
    assert.deepEqual(c.schedule, { kind: 'cosine', lMax: 16384, lMin: 8192, cycle: 640 });
    assert.equal(c.totalSteps, 3 * 640);
    assert.equal(c.batchPrompts, 128);
    assert.equal(c.lr, 1e-6);
    assert.deepEqual([c.clipLow, c.clipHigh, c.klCoef, c.temperature], [0.2, 0.28, 0, 1.0]);
    assert.equal(c.groupSize, 8);
    assert.equal(tokenizerDirOf(c), c.modelDir);
    assert.deepEqual([c.device, c.computeDtype, c.kvCacheDtype], ['cuda', 'bfloat16', 'bfloat16']);
  });

  test('toy is a small CPU run of 3 cycles of 20 steps', () => {
    const c = PRESETS.toy;
    assert.deepEqual(c.schedule, { kind: 'cosine', lMax: 256, lMin: 48, cycle: 20 });
    assert.deepEqual(
      [c.totalSteps, c.groupSize, c.batchPrompts, c.device, c.modelDir],
      [60, 8, 8, 'cpu', 'toy/base'],
    );
    assert.deepEqual([c.computeDtype, c.kvCacheDtype], ['float32', 'float32']);
  });

  test('presets are frozen; presetConfig hands out a mutable copy', () => {
    assert.throws(() => {
      (PRESETS.toy as { lr: number }).lr = 1;
    }, TypeError);
    const copy = presetConfig('toy');
    copy.lr = 3e-5;
    assert.equal(PRESETS.toy.lr, 1e-5);
  });
});

describe('parsing', () => {
  test('fields with defaults may be left out', () => {
    const minimal = {
      modelDir: 'm',
      runDir: 'r',
      trainData: { files: ['t.jsonl'] },
      schedule: { kind: 'constant', lMax: 512 },
      totalSteps: 10,
      groupSize: 4,
      batchPrompts: 2,
      lr: 1e-6,
      microBatchTokens: 2048,
      eval: { everySteps: 5, samples: 1, temperature: 0, topP: 1, maxTokens: 512, dataFiles: ['e.jsonl'] },
      checkpoint: { everySteps: 5, keepLast: 1 },
    };
    const c = parseRunConfig(minimal);
    assert.deepEqual(
      [c.loss, c.clipLow, c.clipHigh, c.lossAggregation, c.klCoef, c.entropyCoef, c.promptTemplate, c.device],
      ['grpo', 0.2, 0.28, 'token-mean', 0, 0, 'r1', 'cpu'],
    );
    assert.deepEqual(c.betas, [0.9, 0.999]);
    assert.deepEqual(c.trainData, { files: ['t.jsonl'], problemField: 'problem', answerField: 'answer' });
    assert.deepEqual(c.dynamicSampling, { enabled: false, maxExtraRolloutBatches: 0 });
    assert.equal(c.checkpoint.keepNamed, true);
    assert.equal(c.clipC, undefined);
    assert.equal(c.miniBatches, 1);
  });

  test('more PPO mini-batches than prompts per step is rejected, naming both fields', () => {
    const issues = issuesOf({ preset: 'toy', batchPrompts: 4, miniBatches: 8 });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['miniBatches'],
    );
    assert.match(
      issues[0]?.message ?? '',
      /8 mini-batches .* batchPrompts is 4: lower miniBatches or raise batchPrompts/,
    );
    assert.equal(parseRunConfig({ preset: 'toy', batchPrompts: 4, miniBatches: 4 }).miniBatches, 4);
    assert.deepEqual(
      issuesOf({ preset: 'toy', miniBatches: 0 }).map((i) => i.path),
      ['miniBatches'],
    );
  });

  test('a preset with overrides; a schedule of another kind replaces the preset schedule whole', () => {
    const c = parseRunConfig({
      preset: 'toy',
      lr: 3e-5,
      schedule: { lMin: 96 },
      eval: { samples: 8 },
    });
    assert.equal(c.lr, 3e-5);
    assert.deepEqual(c.schedule, { kind: 'cosine', lMax: 256, lMin: 96, cycle: 20 });
    assert.equal(c.eval.samples, 8);
    assert.equal(c.eval.maxTokens, 256);
    const staged = parseRunConfig({
      preset: 'toy',
      schedule: { kind: 'stages', stages: [{ fromStep: 0, length: 64 }] },
    });
    assert.deepEqual(staged.schedule, { kind: 'stages', stages: [{ fromStep: 0, length: 64 }] });
    assert.deepEqual(mergeOverrides({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { d: 4 } }), {
      a: [3],
      b: { c: 1, d: 4 },
    });
  });

  test('every bad field is listed with its path, the expected value and what was found', () => {
    const issues = issuesOf({
      preset: 'toy',
      schedule: { lMax: 'big' },
      eval: { samples: 0 },
      device: 'gpu',
      lossAggregation: 'sum',
      betas: [0.9, 1.5],
      trainData: { files: [] },
      lrr: 1e-5,
    });
    assert.equal(messageAt(issues, 'schedule.lMax'), 'expected a number, got "big"');
    assert.equal(messageAt(issues, 'eval.samples'), 'expected a number >= 1, got 0');
    assert.equal(messageAt(issues, 'device'), 'expected "cpu" | "cuda", got "gpu"');
    assert.equal(
      messageAt(issues, 'lossAggregation'),
      'expected "token-mean" | "seq-mean-token-sum" | "seq-mean-token-mean", got "sum"',
    );
    assert.equal(messageAt(issues, 'betas[1]'), 'expected a number < 1, got 1.5');
    assert.equal(messageAt(issues, 'trainData.files'), 'expected a list with >= 1 items, got 0');
    assert.equal(messageAt(issues, 'lrr'), 'unknown key (not allowed here)');
    assert.equal(issues.length, 7);
  });

  test('parseRunConfig throws one RunConfigError whose message has every path', () => {
    assert.throws(
      () => parseRunConfig({ preset: 'toy', seed: -1, checkpoint: { keepLast: 1.5 } }),
      (err: unknown) => {
        assert.ok(err instanceof RunConfigError);
        assert.match(err.message, /invalid run config \(2 problems\)/);
        assert.match(err.message, /seed: expected a number >= 0, got -1/);
        assert.match(err.message, /checkpoint\.keepLast: expected an integer, got 1\.5/);
        return true;
      },
    );
  });

  test('unknown keys are rejected at every level', () => {
    const nested = issuesOf({
      preset: 'siri-1.5b',
      schedule: { cycel: 640 },
      eval: { everyStep: 10 },
      dynamicSampling: { enable: true },
      trainData: { file: 'x' },
    });
    for (const path of ['schedule.cycel', 'eval.everyStep', 'dynamicSampling.enable', 'trainData.file']) {
      assert.equal(messageAt(nested, path), 'unknown key (not allowed here)');
    }
  });

  test('missing fields, a bad schedule kind, lMin above lMax and an unknown preset', () => {
    const empty = issuesOf({});
    assert.equal(messageAt(empty, 'modelDir'), 'required: expected a string');
    assert.equal(messageAt(empty, 'schedule'), 'required: expected an object (mapping)');
    assert.equal(messageAt(empty, 'totalSteps'), 'required: expected a number');
    assert.equal(
      messageAt(issuesOf({ preset: 'toy', schedule: { kind: 'linear' } }), 'schedule.kind'),
      'expected "cosine" | "stair" | "stair-cosine" | "constant" | "stages" | "piecewise", got "linear"',
    );
    assert.equal(
      messageAt(issuesOf({ preset: 'toy', schedule: { lMin: 512 } }), 'schedule.lMin'),
      'expected lMin <= lMax (256), got 512',
    );
    assert.equal(
      messageAt(issuesOf({ preset: 'tiny' }), 'preset'),
      'expected "siri-1.5b" | "toy" | "toy-pick" | "toy-pick-steps" | "toy-leaping" | "toy-leaping-long" | "toy-leaping-lmin48" | "toy-leaping-2layer", got "tiny"',
    );
    assert.equal(messageAt(issuesOf(null), '(root)'), 'expected an object (mapping), got null');
  });
});
