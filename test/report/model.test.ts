// Loading the report model from disk: run and results directories found from any input form, the
// synthetic fixtures read back with their numbers, base-model choice, metrics.jsonl damage turned into
// notes, and unusable inputs as one clear error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFigures, isOmitted } from '../../report/figures';
import { allEvaluations, loadReportModel, parseMetricsLines, ReportInputError } from '../../report/model';
import { FIXTURE_SCHEDULE, writeFixtures, type FixtureLayout } from './fixtures';

let fx: FixtureLayout;
let scratch: string;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'siri-report-model-'));
  fx = await writeFixtures(join(scratch, 'fixtures'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('loading the synthetic fixtures', () => {
  test('a run directory: config schedule, 60 metrics records, 7 checkpoint evaluations by step', async () => {
    const model = await loadReportModel([fx.runDir]);
    assert.equal(model.runs.length, 1);
    const run = model.runs[0]!;
    assert.equal(run.name, 'siri-synthetic-run');
    assert.deepEqual(run.schedule, FIXTURE_SCHEDULE);
    assert.equal(run.totalSteps, 60);
    assert.deepEqual(
      run.metrics.map((m) => m.step),
      Array.from({ length: 60 }, (_, i) => i),
    );
    assert.deepEqual(
      run.evals.map((e) => [e.label, e.step]),
      [
        ['base', 0],
        ['Iter1-Compressed', 10],
        ['Iter1-Expanded', 19],
        ['Iter2-Compressed', 30],
        ['Iter2-Expanded', 39],
        ['Iter3-Compressed', 50],
        ['Iter3-Expanded', 59],
      ],
    );
    assert.equal(model.base?.label, 'base', 'the evals/base directory is the base');
    assert.deepEqual(model.notes, []);
    assert.equal(model.title, 'siri report: siri-synthetic-run');
  });

  test('run + results directories: labels from results.json, evaluations in display order', async () => {
    const model = await loadReportModel([fx.runDir, ...fx.baselineDirs]);
    assert.deepEqual(
      allEvaluations(model).map((e) => e.label),
      [
        'DeepScaleR-like (synthetic)',
        'LengthPenalty-like (synthetic)',
        'base',
        'Iter1-Compressed',
        'Iter1-Expanded',
        'Iter2-Compressed',
        'Iter2-Expanded',
        'Iter3-Compressed',
        'Iter3-Expanded',
      ],
    );
    assert.equal(model.base?.label, 'base');
    assert.equal(model.results[0]!.summary.datasets.length, 4);
    assert.deepEqual(
      buildFigures(model).map((f) => [f.id, isOmitted(f)]),
      [
        ['schedule', false],
        ['training', false],
        ['entropy', false],
        ['pareto', false],
        ['keywords', false],
      ],
    );
  });

  test('a folder holding results directories, and a results.json path, are inputs too', async () => {
    const model = await loadReportModel([join(fx.root, 'baselines')]);
    assert.deepEqual(
      model.results.map((e) => e.label),
      ['DeepScaleR-like (synthetic)', 'LengthPenalty-like (synthetic)'],
    );
    assert.equal(
      model.base?.label,
      'DeepScaleR-like (synthetic)',
      'no "base" eval: the first results directory',
    );
    const single = await loadReportModel([join(fx.baselineDirs[1]!, 'results.json')]);
    assert.equal(single.results[0]?.label, 'LengthPenalty-like (synthetic)');
  });

  test('--base by label or by directory; an unknown one names the labels there are', async () => {
    const byLabel = await loadReportModel([fx.runDir, ...fx.baselineDirs], { base: 'Iter1-Expanded' });
    assert.equal(byLabel.base?.step, 19);
    const byDir = await loadReportModel([fx.runDir, ...fx.baselineDirs], { base: fx.baselineDirs[1]! });
    assert.equal(byDir.base?.label, 'LengthPenalty-like (synthetic)');
    await assert.rejects(
      loadReportModel([...fx.baselineDirs], { base: 'nope' }),
      /--base nope: no evaluation with that label or directory \(labels: DeepScaleR-like \(synthetic\), LengthPenalty-like \(synthetic\)\)/,
    );
  });

  test('two runs: checkpoint labels and per-run figure ids carry the run name', async () => {
    const second = join(scratch, 'second-run');
    cpSync(fx.runDir, second, { recursive: true });
    const model = await loadReportModel([fx.runDir, second]);
    assert.ok(allEvaluations(model).some((e) => e.label === 'second-run Iter1-Compressed'));
    assert.equal(model.base?.label, 'siri-synthetic-run base');
    const ids = buildFigures(model).map((f) => f.id);
    assert.deepEqual(ids, [
      'schedule-siri-synthetic-run',
      'training-siri-synthetic-run',
      'entropy-siri-synthetic-run',
      'schedule-second-run',
      'training-second-run',
      'entropy-second-run',
      'pareto',
      'keywords',
    ]);
  });
});

describe('damaged and partial inputs', () => {
  test('metrics.jsonl: a cut line and a line without a step are notes; a re-written step keeps the last', () => {
    const notes: string[] = [];
    const metrics = parseMetricsLines(
      [
        '{"step": 0, "accuracy": 0.1}',
        '{"step": 1, "accuracy": 0.2}',
        '{"accuracy": 1}',
        '{"step": 1, "accuracy": 0.3}',
        '{"step": 2, "acc',
      ].join('\n'),
      'm.jsonl',
      notes,
    );
    assert.deepEqual(
      metrics.map((m) => [m.step, m.accuracy]),
      [
        [0, 0.1],
        [1, 0.3],
      ],
    );
    assert.deepEqual(notes, [
      'm.jsonl:3: no integer "step" (line ignored)',
      'm.jsonl:5: not valid JSON (line ignored)',
      'm.jsonl: 1 steps were written more than once; the last record is used',
    ]);
  });

  test('a run with only config.json: L(t) drawn, training figures omitted with reasons, no crash', async () => {
    const dir = join(scratch, 'config-only');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ schedule: FIXTURE_SCHEDULE, totalSteps: 40 }));
    const model = await loadReportModel([dir]);
    const figures = buildFigures(model);
    assert.deepEqual(
      figures.map((f) => [f.id, isOmitted(f) ? f.reason : 'drawn']),
      [
        ['schedule', 'drawn'],
        ['training', 'config-only has no training metrics (metrics.jsonl) and no evaluations with a step'],
        ['entropy', 'config-only has no entropy in metrics.jsonl or its evaluations'],
        ['pareto', 'needs at least two evaluations, found 0'],
        ['keywords', 'no evaluation has keyword counts'],
      ],
    );
  });

  test('a bad config schedule and a broken results.json become notes', async () => {
    const dir = join(scratch, 'broken-run');
    cpSync(fx.runDir, dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ schedule: { kind: 'cosine', lMax: 1 } }));
    writeFileSync(join(dir, 'evals', 'Iter1-Expanded', 'results.json'), '{"format": "something else"}');
    appendFileSync(join(dir, 'metrics.jsonl'), '{"step": 60, "accur');
    const model = await loadReportModel([dir]);
    assert.equal(model.runs[0]!.schedule, null);
    assert.equal(model.runs[0]!.evals.length, 6);
    assert.equal(model.notes.length, 3);
    assert.match(model.notes[0]!, /config\.json: no valid "schedule"/);
    assert.match(model.notes[1]!, /metrics\.jsonl:61: not valid JSON/);
    assert.match(model.notes[2]!, /Iter1-Expanded\/results\.json: not a siri results\.json/);
    // L(t) still drawn, from metrics.jsonl's maxTokens.
    assert.equal(isOmitted(buildFigures(model)[0]!), false);
  });

  test('inputs that are not runs or results are one clear error', async () => {
    await assert.rejects(loadReportModel(['/nonexistent/run']), (err: Error) => {
      assert.ok(err instanceof ReportInputError);
      assert.equal(err.message, '/nonexistent/run: no such file or directory');
      return true;
    });
    const empty = join(scratch, 'empty');
    mkdirSync(empty, { recursive: true });
    await assert.rejects(
      loadReportModel([empty]),
      /empty: not a run directory \(config\.json, metrics\.jsonl\) or a results directory/,
    );
    await assert.rejects(loadReportModel([]), /no inputs/);
  });
});
