// The report's figures as pure functions from the ReportModel to Vega-Lite specs (rendered elsewhere):
//   schedule  L(t) with compression/expansion phases shaded and the named checkpoints marked;
//   training  accuracy and mean length vs step (the paper's Figure 4), phases shaded, L(t) for scale;
//   entropy   policy entropy vs step;
//   pareto    accuracy vs mean length of every evaluation, with the Pareto frontier (Figure 1);
//   keywords  behaviour-keyword rates of correct vs incorrect responses across evaluations (Figure 6).
// A figure without the data it needs is returned as omitted, with the reason.
import type { TopLevelSpec } from 'vega-lite';
import { paretoFrontier } from '../siri/metrics';
import {
  describeSchedule,
  isCyclic,
  maxTokensAt,
  namedCheckpoints,
  phaseAt,
  type ScheduleConfig,
  type SchedulePhase,
} from '../siri/schedule';
import {
  allEvaluations,
  commonDatasets,
  meanOver,
  pooledKeywordRates,
  trainingEvaluations,
  type EvaluationEntry,
  type ReportModel,
  type RunData,
} from './model';

export interface FigureSpec {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

export interface OmittedFigure {
  id: string;
  title: string;
  reason: string;
}

export type Figure = FigureSpec | OmittedFigure;

export function isOmitted(figure: Figure): figure is OmittedFigure {
  return 'reason' in figure;
}

const PHASE_COLORS: Record<SchedulePhase, string> = {
  compression: '#4c78a8',
  expansion: '#f58518',
  hold: '#9d9d9d',
};
const PHASES: SchedulePhase[] = ['compression', 'expansion', 'hold'];
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const WIDTH = 640;
const STEP_TITLE = 'training step';
const LENGTH_TITLE = 'mean response length (tokens)';

/** Shared look: one font everywhere (resvg finds DejaVu Sans on Debian), white background. */
const CONFIG = {
  font: FONT,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, grid: true, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 280 },
  title: { fontSize: 14, anchor: 'start' as const, offset: 10 },
};

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/**
 * Marks a plain object as a Vega-Lite spec. The specs are built from small untyped pieces (Vega-Lite's
 * own types do not compose well across helper functions); they are checked by compiling them, and the
 * render tests fail on any Vega-Lite warning.
 */
function vegaLite(spec: Record<string, unknown>): TopLevelSpec {
  return { $schema: SCHEMA, ...spec, config: CONFIG } as unknown as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------------
// Phase bands and per-run series

export interface PhaseBand {
  /** First step of the band. */
  start: number;
  /** One past its last step, so consecutive bands touch. */
  end: number;
  phase: SchedulePhase;
}

/** Maximal runs of equal phase over consecutive steps. */
export function phaseBands(steps: readonly { step: number; phase: SchedulePhase }[]): PhaseBand[] {
  const bands: PhaseBand[] = [];
  for (const { step, phase } of steps) {
    const last = bands[bands.length - 1];
    if (last && last.phase === phase && last.end === step) last.end = step + 1;
    else bands.push({ start: step, end: step + 1, phase });
  }
  return bands;
}

/** Steps of the run's planned schedule: config's totalSteps, else the steps logged, else 3 cycles. */
function plannedSteps(run: RunData, schedule: ScheduleConfig): number {
  if (run.totalSteps !== null) return run.totalSteps;
  const lastLogged = run.metrics[run.metrics.length - 1]?.step;
  if (lastLogged !== undefined) return lastLogged + 1;
  return isCyclic(schedule) ? 3 * schedule.cycle : 100;
}

/** L(t) and the phase of every step: from the configured schedule, else from metrics.jsonl. */
export function scheduleSeries(run: RunData): { step: number; maxTokens: number; phase: SchedulePhase }[] {
  if (run.schedule) {
    const schedule = run.schedule;
    const steps = plannedSteps(run, schedule);
    return Array.from({ length: steps }, (_, t) => ({
      step: t,
      maxTokens: maxTokensAt(schedule, t),
      phase: phaseAt(schedule, t),
    }));
  }
  return run.metrics
    .filter((m) => typeof m.maxTokens === 'number' && PHASES.includes(m.phase))
    .map((m) => ({ step: m.step, maxTokens: m.maxTokens, phase: m.phase }));
}

function bandLayer(bands: PhaseBand[]): Record<string, unknown> {
  const present = PHASES.filter((p) => bands.some((b) => b.phase === p));
  return {
    data: { values: bands },
    mark: { type: 'rect', opacity: 0.14 },
    encoding: {
      x: { field: 'start', type: 'quantitative', title: STEP_TITLE },
      x2: { field: 'end' },
      fill: {
        field: 'phase',
        type: 'nominal',
        title: 'phase',
        scale: { domain: present, range: present.map((p) => PHASE_COLORS[p]) },
      },
    },
  };
}

function figureId(base: string, run: RunData, model: ReportModel): string {
  if (model.runs.length <= 1) return base;
  return `${base}-${run.name.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

function runTitle(title: string, run: RunData, model: ReportModel): string {
  return model.runs.length <= 1 ? title : `${title} — ${run.name}`;
}

// ---------------------------------------------------------------------------------------------------
// L(t)

export function scheduleFigure(run: RunData, model: ReportModel): Figure {
  const id = figureId('schedule', run, model);
  const title = runTitle('Length schedule L(t)', run, model);
  const series = scheduleSeries(run);
  if (series.length === 0) {
    return {
      id,
      title,
      reason: `${run.name} has no schedule in config.json and no maxTokens in metrics.jsonl`,
    };
  }
  const named = run.schedule ? namedCheckpoints(run.schedule, series.length) : [];
  const layers: Record<string, unknown>[] = [
    bandLayer(phaseBands(series)),
    {
      data: { values: series.map(({ step, maxTokens }) => ({ step, maxTokens })) },
      mark: { type: 'line', color: '#1f2937', strokeWidth: 2 },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: STEP_TITLE },
        y: {
          field: 'maxTokens',
          type: 'quantitative',
          title: 'L(t): max new tokens',
          scale: { zero: false },
        },
      },
    },
  ];
  if (named.length > 0) {
    layers.push(
      {
        data: { values: named },
        mark: { type: 'rule', strokeDash: [3, 3], color: '#6b7280' },
        encoding: { x: { field: 'step', type: 'quantitative', title: STEP_TITLE } },
      },
      {
        data: { values: named },
        mark: {
          type: 'text',
          angle: 270,
          align: 'right',
          baseline: 'bottom',
          dx: -4,
          dy: -3,
          fontSize: 9,
          color: '#374151',
        },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: STEP_TITLE },
          y: { value: 0 },
          text: { field: 'name' },
        },
      },
    );
  }
  const source = run.schedule ? describeSchedule(run.schedule) : 'from metrics.jsonl';
  return {
    id,
    title,
    caption:
      `Max new tokens of the rollouts at each training step (${source}), with the compression and ` +
      `expansion phases shaded${named.length > 0 ? ' and the named checkpoints marked' : ''}.`,
    spec: vegaLite({
      title,
      width: WIDTH,
      height: 220,
      layer: layers,
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Figure 4: accuracy and length vs step

interface SeriesPoint {
  step: number;
  series: string;
  value: number;
  /** From an evaluation (sparse, points marked) rather than from every training step. */
  isEval: boolean;
}

/** Evaluations of a run placed on its step axis: metrics.jsonl's own, else the checkpoint evaluations. */
function runEvaluations(run: RunData): EvaluationEntry[] {
  const fromMetrics = trainingEvaluations(run);
  return (fromMetrics.length > 0 ? fromMetrics : run.evals).filter((e) => e.step !== null);
}

function evalSeries(
  run: RunData,
  pick: (d: EvaluationEntry['summary']['datasets'][number]) => number | null,
  suffix: string,
): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (const e of runEvaluations(run)) {
    for (const d of e.summary.datasets) {
      const value = pick(d);
      if (value !== null && Number.isFinite(value)) {
        points.push({ step: e.step ?? 0, series: `${d.name} ${suffix}`, value, isEval: true });
      }
    }
  }
  return points;
}

function numberSeries(
  run: RunData,
  name: string,
  get: (m: RunData['metrics'][number]) => unknown,
): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const m of run.metrics) {
    const v = get(m);
    if (typeof v === 'number' && Number.isFinite(v))
      out.push({ step: m.step, series: name, value: v, isEval: false });
  }
  return out;
}

function seriesPanel(
  bands: PhaseBand[],
  points: SeriesPoint[],
  yTitle: string,
  yFormat: string | null,
  extraLayers: Record<string, unknown>[] = [],
): Record<string, unknown> {
  const seriesNames = [...new Set(points.map((p) => p.series))];
  return {
    width: WIDTH,
    height: 200,
    layer: [
      ...(bands.length > 0 ? [bandLayer(bands)] : []),
      ...extraLayers,
      // Training curves: dense, plain lines. Evaluations: sparse, so their points are marked.
      ...[false, true]
        .filter((isEval) => points.some((p) => p.isEval === isEval))
        .map((isEval) => ({
          data: { values: points.filter((p) => p.isEval === isEval) },
          mark: { type: 'line', point: isEval ? { size: 22 } : false, strokeWidth: isEval ? 1.6 : 1.4 },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: STEP_TITLE },
            y: {
              field: 'value',
              type: 'quantitative',
              title: yTitle,
              ...(yFormat ? { axis: { format: yFormat } } : {}),
            },
            color: { field: 'series', type: 'nominal', title: 'series', sort: seriesNames },
          },
        })),
    ],
  };
}

export function trainingFigure(run: RunData, model: ReportModel): Figure {
  const id = figureId('training', run, model);
  const title = runTitle('Accuracy and response length during training (Figure 4)', run, model);
  const accuracy = [
    ...numberSeries(run, 'training accuracy', (m) => m.accuracy),
    ...evalSeries(run, (d) => d.pass1, 'pass@1'),
  ];
  const lengths = [
    ...numberSeries(run, 'training mean length', (m) => m.meanLength),
    ...evalSeries(run, (d) => d.meanLength, 'mean length'),
  ];
  if (accuracy.length === 0 && lengths.length === 0) {
    return {
      id,
      title,
      reason: `${run.name} has no training metrics (metrics.jsonl) and no evaluations with a step`,
    };
  }
  const schedule = scheduleSeries(run).filter(
    (s) => run.metrics.length === 0 || s.step <= (run.metrics[run.metrics.length - 1]?.step ?? 0),
  );
  const bands = phaseBands(schedule);
  const lLayer = {
    data: { values: schedule.map(({ step, maxTokens }) => ({ step, maxTokens, series: 'L(t)' })) },
    mark: { type: 'line', color: '#9ca3af', strokeDash: [4, 3], strokeWidth: 1.2 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: STEP_TITLE },
      y: { field: 'maxTokens', type: 'quantitative', title: LENGTH_TITLE },
    },
  };
  const panels = [];
  if (accuracy.length > 0) panels.push(seriesPanel(bands, accuracy, 'accuracy', '.0%'));
  if (lengths.length > 0) {
    panels.push(seriesPanel(bands, lengths, LENGTH_TITLE, null, schedule.length > 0 ? [lLayer] : []));
  }
  return {
    id,
    title,
    caption:
      'Training accuracy (length-capped reward) and evaluation pass@1 per benchmark (top), and mean response ' +
      'length (bottom; the dashed grey line is L(t)), against the training step, with phases shaded.',
    spec: vegaLite({
      title,
      vconcat: panels,
      resolve: { scale: { color: 'independent' } },
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Entropy vs step

/** Per evaluation of the run, the mean over its benchmarks of the mean token entropy (where reported). */
function meanEvalEntropy(run: RunData): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const e of runEvaluations(run)) {
    const values = e.summary.datasets.map((d) => d.meanEntropy).filter((v): v is number => v !== null);
    if (values.length === 0) continue;
    const value = values.reduce((s, v) => s + v, 0) / values.length;
    out.push({ step: e.step ?? 0, series: 'evaluation (mean over benchmarks)', value, isEval: true });
  }
  return out;
}

export function entropyFigure(run: RunData, model: ReportModel): Figure {
  const id = figureId('entropy', run, model);
  const title = runTitle('Policy entropy during training', run, model);
  const points = [...numberSeries(run, 'training rollouts', (m) => m.entropy), ...meanEvalEntropy(run)];
  if (points.length === 0)
    return { id, title, reason: `${run.name} has no entropy in metrics.jsonl or its evaluations` };
  const lastStep = run.metrics[run.metrics.length - 1]?.step;
  const bands = phaseBands(scheduleSeries(run).filter((s) => lastStep === undefined || s.step <= lastStep));
  return {
    id,
    title,
    caption:
      'Mean token entropy (nats) of the policy on its rollouts and on evaluation samples, against the training step.',
    spec: vegaLite({ title, ...seriesPanel(bands, points, 'mean token entropy (nats)', null) }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Figure 1: accuracy vs length with the Pareto frontier

export interface ParetoPoint {
  label: string;
  group: string;
  length: number;
  accuracy: number;
  frontier: boolean;
}

/** Every evaluation as a (mean length, mean pass@1) point over the datasets they all have. */
export function paretoPoints(model: ReportModel): { points: ParetoPoint[]; datasets: string[] } {
  const entries = allEvaluations(model);
  const datasets = commonDatasets(entries);
  if (datasets.length === 0) return { points: [], datasets };
  const raw = entries.map((e) => ({ label: e.label, group: e.group, ...meanOver(e, datasets) }));
  const onFrontier = new Set(paretoFrontier(raw).map((p) => p.label));
  return { points: raw.map((p) => ({ ...p, frontier: onFrontier.has(p.label) })), datasets };
}

export function paretoFigure(model: ReportModel): Figure {
  const id = 'pareto';
  const title = 'Accuracy vs response length (Figure 1)';
  const entries = allEvaluations(model);
  if (entries.length < 2)
    return { id, title, reason: `needs at least two evaluations, found ${entries.length}` };
  const { points, datasets } = paretoPoints(model);
  if (datasets.length === 0) return { id, title, reason: 'the evaluations share no benchmark' };
  const frontier = points.filter((p) => p.frontier).sort((a, b) => a.length - b.length);
  const x = {
    field: 'length',
    type: 'quantitative',
    title: 'mean response length (tokens)',
    scale: { zero: false, padding: 30 },
  };
  const y = {
    field: 'accuracy',
    type: 'quantitative',
    title: 'mean pass@1',
    axis: { format: '.0%' },
    scale: { zero: false, padding: 20 },
  };
  return {
    id,
    title,
    caption:
      `Mean pass@1 against mean response length over ${datasets.join(', ')} for every evaluation; the dashed line ` +
      'joins the Pareto frontier (no other point is both shorter and more accurate). Up and to the left is better.',
    spec: vegaLite({
      title,
      width: WIDTH,
      height: 340,
      layer: [
        {
          data: { values: frontier },
          mark: { type: 'line', strokeDash: [5, 4], color: '#111827', strokeWidth: 1.4 },
          encoding: { x, y },
        },
        {
          data: { values: points },
          mark: { type: 'point', filled: true, size: 70 },
          encoding: {
            x,
            y,
            color: { field: 'group', type: 'nominal', title: 'source' },
            shape: {
              field: 'frontier',
              type: 'nominal',
              title: 'on frontier',
              scale: { domain: [true, false], range: ['diamond', 'circle'] },
            },
          },
        },
        {
          data: { values: points },
          mark: { type: 'text', align: 'left', dx: 7, dy: -5, fontSize: 10, color: '#374151' },
          encoding: { x, y, text: { field: 'label' } },
        },
      ],
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Figure 6: keyword rates, correct vs incorrect, across evaluations

export interface KeywordRow {
  label: string;
  order: number;
  keyword: string;
  split: 'correct' | 'incorrect';
  per1k: number;
}

export function keywordRows(model: ReportModel): KeywordRow[] {
  const rows: KeywordRow[] = [];
  allEvaluations(model).forEach((e, order) => {
    const pooled = pooledKeywordRates(e.summary);
    for (const split of ['correct', 'incorrect'] as const) {
      for (const [keyword, per1k] of Object.entries(pooled[split]))
        rows.push({ label: e.label, order, keyword, split, per1k });
    }
  });
  return rows;
}

export function keywordsFigure(model: ReportModel): Figure {
  const id = 'keywords';
  const title = 'Behaviour keywords in correct vs incorrect responses (Figure 6)';
  const rows = keywordRows(model);
  if (rows.length === 0) return { id, title, reason: 'no evaluation has keyword counts' };
  const keywords = [...new Set(rows.map((r) => r.keyword))];
  const labels = [...new Set(rows.map((r) => r.label))];
  return {
    id,
    title,
    caption:
      'Occurrences per 1K response tokens of each keyword, in correct and in incorrect responses, for every ' +
      'evaluation (pooled over its benchmarks).',
    spec: vegaLite({
      title,
      data: { values: rows },
      facet: {
        field: 'keyword',
        type: 'nominal',
        sort: keywords,
        title: null,
        header: { labelFontSize: 12, labelFontWeight: 'bold' },
      },
      columns: Math.min(keywords.length, 3),
      spec: {
        width: Math.max(150, Math.min(260, 26 * labels.length)),
        height: 150,
        mark: { type: 'line', point: { size: 22 }, strokeWidth: 1.6 },
        encoding: {
          x: {
            field: 'label',
            type: 'ordinal',
            sort: labels,
            title: null,
            axis: { labelAngle: -40, labelLimit: 180 },
          },
          y: { field: 'per1k', type: 'quantitative', title: 'per 1K tokens' },
          color: {
            field: 'split',
            type: 'nominal',
            title: 'responses',
            scale: { domain: ['correct', 'incorrect'], range: ['#54a24b', '#e45756'] },
          },
        },
      },
      resolve: { scale: { y: 'independent' } },
    }),
  };
}

// ---------------------------------------------------------------------------------------------------

/** All figures of the report, in display order (per run: schedule, training, entropy; then the rest). */
export function buildFigures(model: ReportModel): Figure[] {
  const figures: Figure[] = [];
  if (model.runs.length === 0) {
    for (const [id, title] of [
      ['schedule', 'Length schedule L(t)'],
      ['training', 'Accuracy and response length during training (Figure 4)'],
      ['entropy', 'Policy entropy during training'],
    ] as const) {
      figures.push({
        id,
        title,
        reason: 'no training run among the inputs (a run directory has metrics.jsonl)',
      });
    }
  }
  for (const run of model.runs) {
    figures.push(scheduleFigure(run, model), trainingFigure(run, model), entropyFigure(run, model));
  }
  figures.push(paretoFigure(model), keywordsFigure(model));
  return figures;
}
