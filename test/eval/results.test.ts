// Evaluation results: aggregateDataset against hand-computed pass@1 / pass@k / lengths / keyword rates /
// token-weighted entropy, the summary, and the results directory (samples.jsonl.gz, results.md,
// results.json) written atomically and read back byte-for-byte.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readSamplesSync,
  samplesFilesUnder,
  aggregateDataset,
  collectVersions,
  defaultKs,
  readEvalResults,
  readSamples,
  resultsMarkdown,
  summarizeEval,
  writeEvalResults,
  type SampleRecord,
  type StoredSample,
  type WriteEvalResultsInput,
} from '../../eval/results';
import { templateText } from '../../eval/templates';

const root = new URL('../..', import.meta.url).pathname;
const close = (a: number, b: number, tol = 1e-12): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

/** Two problems × four samples (given out of order); the expected numbers are worked out by hand below. */
const samples: SampleRecord[] = [
  { problemIndex: 1, sampleIndex: 3, correct: true, length: 100, truncated: false, text: 'compute' },
  {
    problemIndex: 0,
    sampleIndex: 0,
    correct: true,
    length: 100,
    truncated: false,
    text: 'Wait, so x = 2. Wait.',
    entropy: 0.5,
  },
  {
    problemIndex: 0,
    sampleIndex: 1,
    correct: false,
    length: 300,
    truncated: true,
    text: 'Alternatively compute it. hold on',
    entropy: 1,
  },
  {
    problemIndex: 0,
    sampleIndex: 2,
    correct: true,
    length: 200,
    truncated: false,
    text: 'so so so',
    entropy: null,
  },
  { problemIndex: 0, sampleIndex: 3, correct: false, length: 400, truncated: true, text: 'wait', entropy: 2 },
  { problemIndex: 1, sampleIndex: 0, correct: false, length: 50, truncated: false, text: '', entropy: 1 },
  { problemIndex: 1, sampleIndex: 1, correct: false, length: 150, truncated: false, text: 'Waiting' },
  { problemIndex: 1, sampleIndex: 2, correct: false, length: 250, truncated: false, text: 'so' },
];

describe('aggregateDataset', () => {
  const result = aggregateDataset(samples, { name: 'toy', file: '/data/toy.jsonl', skipped: 2, problems: 2 });

  test('pass@1 and unbiased pass@k by hand', () => {
    // problem 0: 2 of 4 correct, problem 1: 1 of 4.  pass@1 = (2/4 + 1/4) / 2 = 0.375.
    close(result.pass1, 0.375);
    // pass@2 = 1 − C(n−c, 2)/C(4, 2): problem 0: 1 − 1/6 = 5/6; problem 1: 1 − 3/6 = 1/2; mean 2/3.
    assert.deepEqual(Object.keys(result.passAtK), ['1', '2', '4']);
    close(result.passAtK['1']!, 0.375);
    close(result.passAtK['2']!, 2 / 3);
    close(result.passAtK['4']!, 1);
    assert.equal(result.problems, 2);
    assert.equal(result.samplesPerProblem, 4);
    assert.equal(result.skipped, 2);
    assert.equal(result.name, 'toy');
    assert.equal(result.file, '/data/toy.jsonl');
  });

  test('lengths split by correctness and truncation rate', () => {
    close(result.meanLength, 1550 / 8); // 100+300+200+400+50+150+250+100
    close(result.meanLengthCorrect!, 400 / 3); // 100, 200, 100
    close(result.meanLengthIncorrect!, 1150 / 5); // 300, 400, 50, 150, 250
    close(result.truncationRate, 2 / 8);
  });

  test('keyword rates per 1K tokens, pooled per split (whole words: "Waiting" is not "wait")', () => {
    // correct: 400 tokens; wait 2, so 1 + 3, compute 1.
    assert.deepEqual(result.keywordsPer1k.correct, {
      wait: 5,
      'hold on': 0,
      alternatively: 0,
      so: 10,
      compute: 2.5,
    });
    // incorrect: 1150 tokens; one each of wait, hold on, alternatively, so, compute.
    for (const k of ['wait', 'hold on', 'alternatively', 'so', 'compute']) {
      close(result.keywordsPer1k.incorrect[k]!, 1000 / 1150);
    }
  });

  test('entropy is the token-weighted mean over samples that reported one', () => {
    // (0.5·100 + 1·300 + 2·400 + 1·50) / (100 + 300 + 400 + 50) = 1200 / 850
    close(result.meanEntropy!, 1200 / 850);
    const noEntropy = aggregateDataset(
      samples.map((s) => ({ ...s, entropy: undefined })),
      { name: 'x', file: 'x' },
    );
    assert.equal(noEntropy.meanEntropy, null);
  });

  test('custom ks and keywords; incomplete or inconsistent samples are errors', () => {
    const r = aggregateDataset(samples, { name: 't', file: 'f', ks: [3], keywords: ['so'] });
    assert.deepEqual(Object.keys(r.passAtK), ['3']);
    // problem 0: 1 − C(2,3)/C(4,3) = 1; problem 1: 1 − C(3,3)/C(4,3) = 3/4.
    close(r.passAtK['3']!, 7 / 8);
    assert.deepEqual(Object.keys(r.keywordsPer1k.correct), ['so']);
    assert.throws(
      () => aggregateDataset(samples, { name: 't', file: 'f', ks: [5] }),
      /pass@5 needs at least 5 samples/,
    );
    assert.throws(
      () => aggregateDataset(samples, { name: 't', file: 'f', problems: 3 }),
      /t: 1 of 3 problems have no samples \(first: 2\)/,
    );
    assert.throws(
      () => aggregateDataset([...samples, samples[0]!], { name: 't', file: 'f' }),
      /duplicate sample 3 of problem 1/,
    );
    assert.throws(() => aggregateDataset([], { name: 't', file: 'f' }), /no samples/);
  });

  test('default ks are powers of two below n, and n', () => {
    assert.deepEqual(defaultKs(1), [1]);
    assert.deepEqual(defaultKs(4), [1, 2, 4]);
    assert.deepEqual(defaultKs(6), [1, 2, 4, 6]);
    assert.deepEqual(defaultKs(64), [1, 2, 4, 8, 16, 32, 64]);
  });
});

describe('summarizeEval', () => {
  test('unweighted means over datasets', () => {
    const a = aggregateDataset(samples, { name: 'a', file: 'a' });
    const b = { ...a, name: 'b', pass1: 0.625, meanLength: 1000 };
    const summary = summarizeEval([a, b], { step: 320, checkpointName: 'Iter1-Compressed' });
    close(summary.meanPass1, (0.375 + 0.625) / 2);
    close(summary.meanLength, (1550 / 8 + 1000) / 2);
    assert.equal(summary.step, 320);
    assert.equal(summary.checkpointName, 'Iter1-Compressed');
    assert.throws(() => summarizeEval([], { step: null, checkpointName: null }), /at least one dataset/);
  });
});

function stored(): StoredSample[] {
  return samples.map((s) => ({ ...s, dataset: 'toy', problemId: `toy-${s.problemIndex}` }));
}

function writeInput(overrides: Partial<WriteEvalResultsInput> = {}): WriteEvalResultsInput {
  const dataset = aggregateDataset(samples, { name: 'toy', file: '/data/toy.jsonl' });
  return {
    label: 'SIRI-test',
    model: { path: '/models/siri', step: 640, checkpointName: 'Iter1-Expanded' },
    template: { name: 'r1', text: templateText('r1') },
    seed: 1234,
    config: {
      dataFiles: ['/data/toy.jsonl'],
      problemField: 'problem',
      answerField: 'answer',
      samples: 4,
      temperature: 0.6,
      topP: 0.95,
      maxTokens: 16384,
      keywords: ['wait', 'hold on', 'alternatively', 'so', 'compute'],
      extra: { batchSize: 8 },
    },
    summary: summarizeEval([dataset], { step: 640, checkpointName: 'Iter1-Expanded' }),
    startedAt: new Date('2025-01-01T00:00:00Z'),
    finishedAt: new Date('2025-01-01T00:02:05Z'),
    versions: { siri: '0.1.0', node: '20.20.0', torch: '2.13.0' },
    samples: stored(),
    ...overrides,
  };
}

describe('writeEvalResults', () => {
  test('writes the three files; results.json records everything and the samples read back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siri-results-'));
    try {
      const written = await writeEvalResults(dir, writeInput());
      assert.deepEqual(readdirSync(dir).sort(), ['results.json', 'results.md', 'samples.jsonl.gz']);
      for (const ref of [written.results, written.markdown, written.samples]) {
        const bytes = readFileSync(ref.path);
        assert.equal(ref.bytes, bytes.length);
        assert.equal(ref.sha256, createHash('sha256').update(bytes).digest('hex'));
      }
      const file = await readEvalResults(join(dir, 'results.json'));
      assert.equal(file.format, 'siri-eval-results');
      assert.equal(file.label, 'SIRI-test');
      assert.equal(file.seed, 1234);
      assert.deepEqual(file.model, { path: '/models/siri', step: 640, checkpointName: 'Iter1-Expanded' });
      assert.equal(file.template.text, templateText('r1'));
      assert.equal(file.config.temperature, 0.6);
      assert.deepEqual(file.config.extra, { batchSize: 8 });
      assert.equal(file.wallSeconds, 125);
      assert.equal(file.startedAt, '2025-01-01T00:00:00.000Z');
      close(file.summary.datasets[0]!.pass1, 0.375);
      assert.deepEqual(file.samplesFile, {
        name: 'samples.jsonl.gz',
        sha256: written.samples.sha256,
        bytes: written.samples.bytes,
        count: 8,
      });
      const back: StoredSample[] = [];
      for await (const s of readSamples(join(dir, 'samples.jsonl.gz'))) back.push(s);
      assert.deepEqual(back, JSON.parse(JSON.stringify(stored())));
      const md = readFileSync(join(dir, 'results.md'), 'utf8');
      assert.match(md, /^# Evaluation: SIRI-test$/m);
      assert.match(
        md,
        /^\| toy \| 2 \| 4 \| 37\.5% \| 100\.0% \| 194 \| 133 \| 230 \| 25\.0% \| 1\.412 \| 0 \|$/m,
      );
      assert.match(md, /seed 1234/);
      assert.match(md, /torch 2\.13\.0/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failure while streaming samples leaves the previous results in place and no temp files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siri-results-'));
    try {
      await writeEvalResults(dir, writeInput());
      const before = readFileSync(join(dir, 'results.json'));
      const beforeSamples = readFileSync(join(dir, 'samples.jsonl.gz'));
      function* failing(): Generator<StoredSample> {
        yield stored()[0]!;
        throw new Error('engine died');
      }
      await assert.rejects(
        writeEvalResults(dir, writeInput({ samples: failing(), label: 'new' })),
        /engine died/,
      );
      assert.deepEqual(readdirSync(dir).sort(), ['results.json', 'results.md', 'samples.jsonl.gz']);
      assert.deepEqual(readFileSync(join(dir, 'results.json')), before);
      assert.deepEqual(readFileSync(join(dir, 'samples.jsonl.gz')), beforeSamples);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('readEvalResults rejects a file that is not a results.json, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siri-results-'));
    try {
      writeFileSync(
        join(dir, 'results.json'),
        JSON.stringify({ format: 'siri-eval-results', formatVersion: 1 }),
      );
      await assert.rejects(
        readEvalResults(join(dir, 'results.json')),
        /results\.json: not a siri results\.json \(label:/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('markdown shows a dash for missing numbers', () => {
    const input = writeInput();
    const d = { ...input.summary.datasets[0]!, meanLengthCorrect: null, meanEntropy: null };
    const md = resultsMarkdown({
      format: 'siri-eval-results',
      formatVersion: 1,
      label: null,
      model: input.model,
      template: input.template,
      seed: 1,
      config: input.config,
      versions: { siri: '0.1.0', node: '20', torch: null },
      startedAt: null,
      finishedAt: '2025-01-01T00:00:00.000Z',
      wallSeconds: null,
      summary: { ...input.summary, datasets: [d] },
      samplesFile: { name: 'samples.jsonl.gz', sha256: '', bytes: 0, count: 0 },
    });
    assert.match(md, /^# Evaluation$/m);
    assert.match(md, /\| 194 \| – \| 230 \| 25\.0% \| – \| 0 \|/);
    assert.match(md, /torch n\/a/);
  });
});

describe('samplesFilesUnder / readSamplesSync', () => {
  test('finds every samples.jsonl.gz at any depth, in name order, and reads its lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'siri-samples-'));
    try {
      mkdirSync(join(dir, 'b', 'shard-1'), { recursive: true });
      mkdirSync(join(dir, 'a'), { recursive: true });
      const rows = [
        { problemId: 'p1', correct: true },
        { problemId: 'p2', correct: false },
      ];
      writeFileSync(
        join(dir, 'a', 'samples.jsonl.gz'),
        gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n\n'),
      );
      writeFileSync(join(dir, 'b', 'shard-1', 'samples.jsonl.gz'), gzipSync(''));
      writeFileSync(join(dir, 'b', 'samples.jsonl'), 'not gzipped, not a samples file');
      assert.deepEqual(samplesFilesUnder(dir), [
        join(dir, 'a', 'samples.jsonl.gz'),
        join(dir, 'b', 'shard-1', 'samples.jsonl.gz'),
      ]);
      assert.deepEqual(readSamplesSync(join(dir, 'a', 'samples.jsonl.gz')), rows);
      assert.deepEqual(readSamplesSync(join(dir, 'b', 'shard-1', 'samples.jsonl.gz')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('collectVersions', () => {
  test('siri from package.json, node from the process, torch from the native engine when built', async () => {
    const v = await collectVersions();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(v.siri, pkg.version);
    assert.equal(v.node, process.versions.node);
    if (existsSync(join(root, 'native', 'build', 'Release', 'siri_native.node'))) {
      assert.match(v.torch ?? '', /^\d+\.\d+\.\d+/);
    } else {
      assert.equal(v.torch, null);
    }
  });
});
