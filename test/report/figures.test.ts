// The report's figures as pure functions of the model: the data each Vega-Lite spec carries (L(t) from
// the schedule, phase bands, Pareto frontier, pooled keyword rates), figures omitted with a reason when
// their data are missing, and every spec compiling and rendering (SVG → PNG) with no Vega warning.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildFigures,
  entropyFigure,
  isOmitted,
  keywordRows,
  paretoFigure,
  paretoPoints,
  phaseBands,
  scheduleFigure,
  trainingFigure,
  type Figure,
  type FigureSpec,
} from '../../report/figures';
import { pooledKeywordRates } from '../../report/model';
import { PNG_SCALE, pngSize, prefixSvgIds, renderSpec } from '../../report/render';
import { maxTokensAt, phaseAt, type ScheduleConfig } from '../../siri/schedule';
import { dataset, evaluation, metricsAt, model, run } from './helpers';

const cosine: ScheduleConfig = { kind: 'cosine', lMax: 16384, lMin: 8192, cycle: 20 };

type Layer = {
  data?: { values: Record<string, unknown>[] };
  mark?: unknown;
  encoding?: Record<string, unknown>;
};
function layers(figure: Figure): Layer[] {
  assert.ok(!isOmitted(figure), `figure ${figure.id} was omitted`);
  return (figure.spec as unknown as { layer: Layer[] }).layer;
}
function spec(figure: Figure): FigureSpec {
  assert.ok(
    !isOmitted(figure),
    `figure ${figure.id} was omitted: ${'reason' in figure ? figure.reason : ''}`,
  );
  return figure;
}

describe('phase bands', () => {
  test('maximal runs of one phase over consecutive steps, end exclusive', () => {
    assert.deepEqual(
      phaseBands([
        { step: 0, phase: 'compression' },
        { step: 1, phase: 'compression' },
        { step: 2, phase: 'expansion' },
        { step: 3, phase: 'expansion' },
        { step: 4, phase: 'compression' },
        { step: 6, phase: 'compression' }, // a gap starts a new band
      ]),
      [
        { start: 0, end: 2, phase: 'compression' },
        { start: 2, end: 4, phase: 'expansion' },
        { start: 4, end: 5, phase: 'compression' },
        { start: 6, end: 7, phase: 'compression' },
      ],
    );
  });
});

describe('L(t) figure', () => {
  const r = run('r', { schedule: cosine, totalSteps: 60 });
  const fig = scheduleFigure(r, model({ runs: [r] }));

  test('the line is L(t) of the configured schedule at every step', () => {
    const values = layers(fig)[1]!.data!.values;
    assert.equal(values.length, 60);
    values.forEach((v, t) => assert.deepEqual(v, { step: t, maxTokens: maxTokensAt(cosine, t) }));
    assert.equal(values[0]!.maxTokens, 16384);
    assert.equal(values[10]!.maxTokens, 8192);
  });

  test('phases are shaded: compression for u <= T/2, expansion after, per 20-step cycle', () => {
    assert.deepEqual(layers(fig)[0]!.data!.values, [
      { start: 0, end: 11, phase: 'compression' },
      { start: 11, end: 20, phase: 'expansion' },
      { start: 20, end: 31, phase: 'compression' },
      { start: 31, end: 40, phase: 'expansion' },
      { start: 40, end: 51, phase: 'compression' },
      { start: 51, end: 60, phase: 'expansion' },
    ]);
  });

  test('the named checkpoints are marked at their steps', () => {
    assert.deepEqual(
      layers(fig)[2]!.data!.values.map((c) => [c.name, c.step]),
      [
        ['Iter1-Compressed', 10],
        ['Iter1-Expanded', 19],
        ['Iter2-Compressed', 30],
        ['Iter2-Expanded', 39],
        ['Iter3-Compressed', 50],
        ['Iter3-Expanded', 59],
      ],
    );
  });

  test('without a schedule in config.json, L(t) and phases come from metrics.jsonl', () => {
    const metrics = [0, 1, 2].map((t) =>
      metricsAt(t, null, { maxTokens: 100 + t, phase: t < 2 ? 'compression' : 'expansion' }),
    );
    const fromMetrics = scheduleFigure(run('m', { metrics }), model());
    assert.deepEqual(
      layers(fromMetrics)[1]!.data!.values.map((v) => v.maxTokens),
      [100, 101, 102],
    );
    assert.equal(layers(fromMetrics).length, 2, 'no named checkpoints without a schedule');
  });

  test('no schedule and no metrics: omitted with the reason', () => {
    const omitted = scheduleFigure(run('empty'), model());
    assert.ok(isOmitted(omitted));
    assert.match(omitted.reason, /empty has no schedule in config\.json and no maxTokens in metrics\.jsonl/);
  });
});

describe('training curves (Figure 4) and entropy', () => {
  const metrics = Array.from({ length: 21 }, (_, t) =>
    metricsAt(t, cosine, {
      phase: phaseAt(cosine, t),
      maxTokens: maxTokensAt(cosine, t),
      accuracy: 0.4 + t / 100,
      meanLength: 5000 + 10 * t,
      entropy: 0.5 - t / 100,
      ...(t % 10 === 0
        ? {
            eval: evaluation(
              'e',
              [
                dataset('aime24', 0.3 + t / 100, 9000, { meanEntropy: 0.4 }),
                dataset('amc', 0.6, 7000, { meanEntropy: 0.2 }),
              ],
              {
                step: t,
              },
            ).summary,
          }
        : {}),
    }),
  );
  const r = run('r', { schedule: cosine, totalSteps: 60, metrics });

  test('accuracy and length panels carry training values per step and eval values per benchmark', () => {
    const fig = spec(trainingFigure(r, model({ runs: [r] })));
    const panels = (fig.spec as unknown as { vconcat: { layer: Layer[] }[] }).vconcat;
    assert.equal(panels.length, 2);
    const accuracyLayers = panels[0]!.layer;
    // layers: phase bands, training lines, evaluation lines
    const training = accuracyLayers[1]!.data!.values;
    assert.equal(training.length, 21);
    assert.deepEqual(training[5], { step: 5, series: 'training accuracy', value: 0.45, isEval: false });
    const evals = accuracyLayers[2]!.data!.values;
    assert.deepEqual(
      evals.map((p) => [p.step, p.series, p.value]),
      [
        [0, 'aime24 pass@1', 0.3],
        [0, 'amc pass@1', 0.6],
        [10, 'aime24 pass@1', 0.4],
        [10, 'amc pass@1', 0.6],
        [20, 'aime24 pass@1', 0.5],
        [20, 'amc pass@1', 0.6],
      ],
    );
    // The length panel also draws L(t), up to the last logged step only.
    const lLine = panels[1]!.layer[1]!.data!.values;
    assert.equal(lLine.length, 21);
    assert.equal(lLine[10]!.maxTokens, 8192);
  });

  test('entropy: training per step and the evaluation mean over benchmarks', () => {
    const fig = spec(entropyFigure(r, model({ runs: [r] })));
    const evalLayer = (fig.spec as unknown as { layer: Layer[] }).layer[2]!;
    // (0.4 + 0.2) / 2 at each evaluation step
    assert.deepEqual(
      evalLayer.data!.values.map((p) => [p.step, Math.round((p.value as number) * 1e9) / 1e9]),
      [
        [0, 0.3],
        [10, 0.3],
        [20, 0.3],
      ],
    );
  });

  test('a run with a config but no metrics or evaluations: both omitted with the reason', () => {
    const bare = run('bare', { schedule: cosine, totalSteps: 60 });
    const training = trainingFigure(bare, model({ runs: [bare] }));
    const entropy = entropyFigure(bare, model({ runs: [bare] }));
    assert.ok(isOmitted(training) && isOmitted(entropy));
    assert.match(training.reason, /bare has no training metrics/);
    assert.match(entropy.reason, /bare has no entropy/);
  });
});

describe('Pareto figure (Figure 1)', () => {
  const a = evaluation('A', [dataset('aime', 0.4, 1000), dataset('amc', 0.6, 1000), dataset('extra', 1, 1)]);
  const b = evaluation('B', [dataset('aime', 0.5, 2000), dataset('amc', 0.7, 2000)]);
  const c = evaluation('C', [dataset('aime', 0.45, 2400), dataset('amc', 0.65, 2600)]);
  const m = model({ results: [a, b, c] });

  test('points average the shared benchmarks; the frontier is the non-dominated ones', () => {
    const { points, datasets } = paretoPoints(m);
    assert.deepEqual(datasets, ['aime', 'amc']); // "extra" is not in every evaluation
    assert.deepEqual(
      points.map((p) => [p.label, p.length, Math.round(p.accuracy * 1000) / 1000, p.frontier]),
      [
        ['A', 1000, 0.5, true],
        ['B', 2000, 0.6, true],
        ['C', 2500, 0.55, false], // B is shorter and more accurate
      ],
    );
    const fig = paretoFigure(m);
    assert.deepEqual(
      layers(fig)[0]!.data!.values.map((p) => p.label),
      ['A', 'B'],
    );
  });

  test('fewer than two evaluations, or none shared: omitted', () => {
    const one = paretoFigure(model({ results: [a] }));
    assert.ok(isOmitted(one));
    assert.match(one.reason, /at least two evaluations, found 1/);
    const disjoint = paretoFigure(model({ results: [a, evaluation('D', [dataset('math500', 0.8, 500)])] }));
    assert.ok(isOmitted(disjoint));
    assert.match(disjoint.reason, /share no benchmark/);
  });
});

describe('keyword figure (Figure 6)', () => {
  test('rates are pooled over benchmarks by tokens: 1000·Σ count / Σ tokens', () => {
    // correct tokens: d1 40·0.5·1000 = 20000 (2/1K → 40 "wait"); d2 40·0.25·2000 = 20000 (5/1K → 100).
    // incorrect tokens: d1 40·0.5·3000 = 60000 (1/1K → 60); d2 40·0.75·1000 = 30000 (4/1K → 120).
    const e = evaluation('E', [
      dataset('d1', 0.5, 2000, {
        meanLengthCorrect: 1000,
        meanLengthIncorrect: 3000,
        keywordsPer1k: { correct: { wait: 2 }, incorrect: { wait: 1 } },
      }),
      dataset('d2', 0.25, 1500, {
        meanLengthCorrect: 2000,
        meanLengthIncorrect: 1000,
        keywordsPer1k: { correct: { wait: 5 }, incorrect: { wait: 4 } },
      }),
    ]);
    const pooled = pooledKeywordRates(e.summary);
    assert.ok(Math.abs(pooled.correct.wait! - 3.5) < 1e-12); // 140 / 40000
    assert.ok(Math.abs(pooled.incorrect.wait! - 2) < 1e-12); // 180 / 90000
    assert.deepEqual(
      keywordRows(model({ results: [e] })).map((r) => [r.label, r.keyword, r.split]),
      [
        ['E', 'wait', 'correct'],
        ['E', 'wait', 'incorrect'],
      ],
    );
  });
});

describe('figure set and rendering', () => {
  test('with no training run the per-run figures are listed as omitted', () => {
    const kw = { keywordsPer1k: { correct: { wait: 1 }, incorrect: { wait: 2 } } };
    const figures = buildFigures(model({ results: [evaluation('A', [dataset('x', 0.5, 10, kw)])] }));
    assert.deepEqual(
      figures.map((f) => [f.id, isOmitted(f)]),
      [
        ['schedule', true],
        ['training', true],
        ['entropy', true],
        ['pareto', true],
        ['keywords', false],
      ],
    );
  });

  test('every figure renders to SVG and PNG with no Vega or Vega-Lite warning', async () => {
    const metrics = Array.from({ length: 30 }, (_, t) =>
      metricsAt(t, cosine, {
        phase: phaseAt(cosine, t),
        maxTokens: maxTokensAt(cosine, t),
        accuracy: 0.5,
        meanLength: 4000,
        entropy: 0.4,
      }),
    );
    const r = run('r', { schedule: cosine, totalSteps: 30, metrics });
    const kw = { keywordsPer1k: { correct: { wait: 1, so: 2 }, incorrect: { wait: 3, so: 1 } } };
    const m = model({
      runs: [r],
      results: [
        evaluation('A', [dataset('aime', 0.4, 1000, kw)]),
        evaluation('B', [dataset('aime', 0.5, 2000, kw)]),
      ],
    });
    const figures = buildFigures(m);
    assert.equal(figures.filter(isOmitted).length, 0);
    for (const figure of figures) {
      if (isOmitted(figure)) continue;
      const warnings: string[] = [];
      const image = await renderSpec(figure.spec, warnings);
      assert.deepEqual(warnings, [], figure.id);
      assert.match(image.svg, /^<svg[^>]+xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.ok(image.svg.includes(figure.title.replace(/&/g, '&amp;')), `${figure.id}: title in the SVG`);
      const svgWidth = Number(/width="(\d+)"/.exec(image.svg)?.[1]);
      const svgHeight = Number(/height="(\d+)"/.exec(image.svg)?.[1]);
      assert.deepEqual(
        pngSize(image.png),
        { width: svgWidth * PNG_SCALE, height: svgHeight * PNG_SCALE },
        figure.id,
      );
      assert.ok(image.png.length > 10_000, `${figure.id}: PNG of ${image.png.length} bytes`);
    }
  });

  test('SVG ids and their references are prefixed so inlined figures cannot clash', () => {
    const svg =
      '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"></g>' +
      '<use href="#clip1"/><g id="other"></g><rect fill="url(#external)"/></svg>';
    assert.equal(
      prefixSvgIds(svg, 'f-a'),
      '<svg><defs><clipPath id="f-a-clip1"><rect/></clipPath></defs><g clip-path="url(#f-a-clip1)"></g>' +
        '<use href="#f-a-clip1"/><g id="f-a-other"></g><rect fill="url(#external)"/></svg>',
    );
  });
});
