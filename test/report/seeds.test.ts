// The across-seed table (report/seeds.ts) read from hand-made run directories: which checkpoints a run
// contributes (the base where it was evaluated, SIRI-low/-high for a SIRI run, the last evaluation for a
// baseline), the reference, and the Markdown figures computed by hand.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReportHtml } from '../../report/html';
import { runSeedScores, seedTable, seedTableMarkdown } from '../../report/seeds';
import { model } from './helpers';
import type { EvalSummary } from '../../workflows/types';

const summary = (meanPass1: number, meanLength: number): EvalSummary => ({
  step: null,
  checkpointName: null,
  datasets: [],
  meanPass1,
  meanLength,
});

/** A run directory whose metrics.jsonl holds evaluations [checkpoint name or null, pass@1, length]. */
function writeRun(
  root: string,
  name: string,
  evals: [string | null, number, number][],
  base?: [number, number],
): string {
  const dir = join(root, name);
  mkdirSync(join(dir, 'evals', 'base'), { recursive: true });
  const lines = evals.map(([checkpointName, pass1, length], i) =>
    JSON.stringify({ step: 10 * i + 9, checkpointName, eval: summary(pass1, length) }),
  );
  // A step without an evaluation in between, as in a real log.
  writeFileSync(join(dir, 'metrics.jsonl'), [JSON.stringify({ step: 0 }), ...lines].join('\n') + '\n');
  if (base)
    writeFileSync(join(dir, 'evals', 'base', 'results.json'), JSON.stringify({ summary: summary(...base) }));
  return dir;
}

/** Writes runDir/evals/<name>/samples.jsonl.gz: one sample per problem of dataset "set", right or wrong. */
function writeSamples(runDir: string, name: string, correct: number[]): void {
  const dir = join(runDir, 'evals', name);
  mkdirSync(dir, { recursive: true });
  const lines = correct.map((c, problemIndex) =>
    JSON.stringify({
      dataset: 'set',
      problemIndex,
      sampleIndex: 0,
      correct: c === 1,
      length: 10,
      truncated: false,
    }),
  );
  writeFileSync(join(dir, 'samples.jsonl.gz'), gzipSync(lines.join('\n') + '\n'));
}

describe('seed table from run directories', () => {
  const root = mkdtempSync(join(tmpdir(), 'siri-seeds-'));
  const siri = (seed: number, low: number, high: number) =>
    writeRun(
      root,
      `siri-cosine-seed${seed}`,
      [
        ['Iter1-Compressed', 0.5, 100],
        [null, 0.55, 95],
        ['Iter1-Expanded', 0.6, 90],
        ['Iter2-Compressed', low, 60],
        ['Iter2-Expanded', high, 70],
      ],
      [0.4, 120],
    );
  const stages = (seed: number, final: number) =>
    writeRun(root, `deepscaler-seed${seed}`, [
      [null, 0.3, 50],
      [null, final, 66],
    ]);
  const runs = [
    { method: 'siri-cosine', seed: 0, runDir: siri(0, 0.7, 0.8) },
    { method: 'deepscaler', seed: 0, runDir: stages(0, 0.82) },
    { method: 'siri-cosine', seed: 1, runDir: siri(1, 0.72, 0.76) },
    { method: 'deepscaler', seed: 1, runDir: stages(1, 0.74) },
  ];
  // Samples of SIRI-high (Iter2-Expanded) and of the stages' last evaluation (step 19 → step-000019) on four
  // problems; the other checkpoints have none.
  writeSamples(runs[0]!.runDir, 'Iter2-Expanded', [1, 1, 1, 0]);
  writeSamples(runs[2]!.runDir, 'Iter2-Expanded', [1, 1, 0, 0]);
  writeSamples(runs[1]!.runDir, 'step-000019', [1, 1, 1, 1]);
  writeSamples(runs[3]!.runDir, 'step-000019', [0, 1, 0, 0]);

  test('a SIRI run gives the base, its last compressed and last expanded checkpoints; a baseline its last', () => {
    assert.deepEqual(runSeedScores(runs[0]!), [
      { label: 'Base', seed: 0, accuracy: 0.4, meanLength: 120 },
      { label: 'siri-cosine Iter1-Compressed', seed: 0, accuracy: 0.5, meanLength: 100 },
      { label: 'siri-cosine Iter1-Expanded', seed: 0, accuracy: 0.6, meanLength: 90 },
      { label: 'siri-cosine SIRI-low', seed: 0, accuracy: 0.7, meanLength: 60 },
      {
        label: 'siri-cosine SIRI-high',
        seed: 0,
        accuracy: 0.8,
        meanLength: 70,
        problemPassRates: { set: [1, 1, 1, 0] },
      },
    ]);
    assert.deepEqual(runSeedScores(runs[1]!), [
      {
        label: 'deepscaler final',
        seed: 0,
        accuracy: 0.82,
        meanLength: 66,
        problemPassRates: { set: [1, 1, 1, 1] },
      },
    ]);
    assert.deepEqual(runSeedScores({ method: 'x', seed: 0, runDir: join(root, 'missing') }), []);
  });

  test('compared with cosine SIRI-high, paired by seed, as Markdown', () => {
    const table = seedTable(runs);
    assert.equal(table.reference, 'siri-cosine SIRI-high');
    const md = seedTableMarkdown(table).split('\n');
    // Rows in the order of their first score: the base, SIRI's named checkpoints, then the baseline.
    assert.deepEqual(
      md.slice(2, -1).map((l) => l.split(' | ')[0]),
      [
        '| Base',
        '| siri-cosine Iter1-Compressed',
        '| siri-cosine Iter1-Expanded',
        '| siri-cosine SIRI-low',
        '| siri-cosine SIRI-high',
        '| deepscaler final',
      ],
    );
    // Iter1-Compressed 0.5 on both seeds: +0.00 SE, vs high −0.30, −0.26 → −28.00 ± 2.00.
    assert.match(
      md[3] ?? '',
      /^\| siri-cosine Iter1-Compressed \| 0, 1 \| 50\.00 ± 0\.00 \| 100\.0 \| -28\.00 ± 2\.00 \| -14\.0 \| – \| – \|$/,
    );
    // SIRI-high 0.80, 0.76 → mean 78.00, SE = |0.80 − 0.76| / 2 = 2.00 points.
    assert.match(
      md[6] ?? '',
      /^\| siri-cosine SIRI-high \| 0, 1 \| 78\.00 ± 2\.00 \| 70\.0 \| – \| – \| – \| – \|$/,
    );
    // Base 0.40 both seeds: SE 0; vs SIRI-high −0.40, −0.36 → −38.00 ± 2.00, z −19.0.
    assert.match(
      md[2] ?? '',
      /^\| Base \| 0, 1 \| 40\.00 ± 0\.00 \| 120\.0 \| -38\.00 ± 2\.00 \| -19\.0 \| – \| – \|$/,
    );
    // SIRI-low 0.70, 0.72 vs high: −0.10, −0.04 → −7.00 ± 3.00, z −2.3.
    assert.match(
      md[5] ?? '',
      /^\| siri-cosine SIRI-low \| 0, 1 \| 71\.00 ± 1\.00 \| 60\.0 \| -7\.00 ± 3\.00 \| -2\.3 \| – \| – \|$/,
    );
    // Stages 0.82, 0.74 vs high: +0.02, −0.02 → +0.00 ± 2.00, z 0.0. Over the problems: seed 0 differs by
    // 0, 0, 0, +1, seed 1 by −1, 0, 0, 0 → δ = −0.5, 0, 0, +0.5; sd² = 0.5 / 3, SE = √(1/6 / 4) = 20.41 points.
    assert.match(
      md[7] ?? '',
      /^\| deepscaler final \| 0, 1 \| 78\.00 ± 4\.00 \| 66\.0 \| \+0\.00 ± 2\.00 \| 0\.0 \| 20\.41 \| 0\.0 \|$/,
    );
  });

  test('the report page shows the same figures in its "Across training seeds" section', () => {
    const html = renderReportHtml({
      model: model(),
      figures: [],
      omitted: [],
      table: null,
      seeds: seedTable(runs),
      generatedAt: '2026-12-06T00:00:00Z',
      siriVersion: 'test',
    });
    assert.match(html, /<h2 id="seeds">Across training seeds<\/h2>/);
    assert.match(
      html,
      /<tr><th scope="row">deepscaler final<\/th><td>0, 1<\/td><td>78\.00 ± 4\.00<\/td><td>66\.0<\/td><td>\+0\.00 ± 2\.00<\/td><td>0\.0<\/td><td>20\.41<\/td><td>0\.0<\/td><\/tr>/,
    );
    const without = renderReportHtml({
      model: model(),
      figures: [],
      omitted: [],
      table: null,
      generatedAt: '2026-12-06T00:00:00Z',
      siriVersion: 'test',
    });
    assert.doesNotMatch(without, /Across training seeds/);
  });

  test('without cosine SIRI the first trained row is the reference', () => {
    assert.equal(seedTable(runs.filter((r) => r.method === 'deepscaler')).reference, 'deepscaler final');
  });
});
