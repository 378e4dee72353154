// Per evaluated checkpoint of a run: pass@1, mean length and how often the responses say "wait" — per
// response and per 1K tokens, with the standard error of the per-response mean — plus, for the toy pick
// world, the search depth (tries per response), how often a response ends without a confirming try, the
// share of try lines whose arithmetic is right, and the share of claimed hits ("… Yes, that is right.")
// whose computed value is not the problem's result (made-up hits; needs the problems: the run's
// config.json names its evaluation files), and "wait" per response by the number of steps in the problem's
// chain (the pick world with --pick-steps, attempt 27: a try's length grows with them).
// Reads <runDir>/evals/*/**/samples.jsonl.gz, prints one row per checkpoint in step order and, with --json,
// writes the rows. Used for docs/toy.md's "wait" measurements.
// Usage: npx tsx scripts/toy-behaviour.ts RUN_DIR [--json FILE] [--window 5]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { keywordCounts } from '../siri/metrics';
import { tryLineRight } from '../toy/pick';
import { readSamplesSync, samplesFilesUnder, type SampleRecord } from '../eval/results';
import type { StepMetrics } from '../workflows/types';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'string' }, window: { type: 'string', default: '5' } },
});
const runDir = positionals[0];
if (runDir === undefined) throw new Error('usage: npx tsx scripts/toy-behaviour.ts RUN_DIR [--json FILE]');

export interface BehaviourRow {
  checkpoint: string;
  samples: number;
  pass1: number;
  meanLength: number;
  waitsPerResponse: number;
  waitsPerResponseSe: number;
  waitsPer1k: number;
  triesPerResponse: number;
  commitRate: number;
  /** Try lines whose every `a op b = c.` is right; NaN without try lines. */
  tryLinesRight: number;
  /** Claimed hits whose last computed value is not the problem's result; NaN without hits or problems. */
  falseHits: number;
  /** "Wait" per response by the number of steps in the problem's chain ("2": …); empty without problems. */
  waitsByChainSteps: Record<string, number>;
}

interface EvalProblemFacts {
  /** "The result is 58." of the pick world; NaN elsewhere. */
  target: number;
  /** Sentences that apply a step ("Add 7.", "Multiply by 3."). */
  chainSteps: number;
}

/** The facts of each evaluation problem (pick target, chain steps), by dataset name and index. */
function evalProblemFacts(dir: string): Map<string, EvalProblemFacts[]> {
  const targets = new Map<string, EvalProblemFacts[]>();
  let config: { eval?: { dataFiles?: string[]; problemField?: string } };
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as typeof config;
  } catch {
    return targets;
  }
  for (const file of config.eval?.dataFiles ?? []) {
    const field = config.eval?.problemField ?? 'problem';
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const values = lines.map((l) => {
      const problem = String((JSON.parse(l) as Record<string, unknown>)[field]);
      const m = /The result is (\d+)/.exec(problem);
      const chainSteps = problem.match(/\b(Add|Subtract|Multiply by|Divide by) \d+\./g)?.length ?? 0;
      return { target: m ? Number(m[1]) : NaN, chainSteps };
    });
    targets.set(basename(file).replace(/\.jsonl$/, ''), values);
  }
  return targets;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A samples.jsonl.gz record: the evaluator also writes the name of the dataset it came from. */
type SampleLine = SampleRecord & { dataset?: string };

function rowOf(
  checkpoint: string,
  samples: readonly SampleLine[],
  facts: Map<string, EvalProblemFacts[]>,
): BehaviourRow {
  const factsOf = (s: SampleLine): EvalProblemFacts | undefined =>
    facts.get(s.dataset ?? '')?.[s.problemIndex];
  const tryLines = samples.flatMap((s) => s.text.split('\n').filter((l) => /^Try \d+/.test(l)));
  const hits = samples.flatMap((s) =>
    s.text
      .split('\n')
      .filter((l) => /^Try \d+.*Yes, that is right\./.test(l))
      .map((line) => ({ line, target: factsOf(s)?.target ?? NaN })),
  );
  const falseHits = hits.filter(({ line, target }) => {
    const values = [...line.matchAll(/= (\d+)\./g)].map((m) => Number(m[1]));
    return values[values.length - 1] !== target;
  });
  const waits = samples.map((s) => keywordCounts(s.text, ['wait']).wait ?? 0);
  const m = mean(waits);
  const variance = waits.reduce((a, w) => a + (w - m) ** 2, 0) / Math.max(1, waits.length - 1);
  const tokens = samples.reduce((a, s) => a + s.length, 0);
  const byChainSteps = new Map<number, number[]>();
  samples.forEach((s, i) => {
    const steps = factsOf(s)?.chainSteps;
    if (steps !== undefined) byChainSteps.set(steps, [...(byChainSteps.get(steps) ?? []), waits[i] ?? 0]);
  });
  return {
    checkpoint,
    samples: samples.length,
    pass1: mean(samples.map((s) => (s.correct ? 1 : 0))),
    meanLength: mean(samples.map((s) => s.length)),
    waitsPerResponse: m,
    waitsPerResponseSe: Math.sqrt(variance / waits.length),
    waitsPer1k: (1000 * waits.reduce((a, b) => a + b, 0)) / tokens,
    // A try computes the chain on a candidate ("Try 41: 41 * 3 = 123. …"; RL also writes "Try 41. 41 * 3 …").
    triesPerResponse: mean(samples.map((s) => s.text.match(/^Try \d+\W.* = /gm)?.length ?? 0)),
    // Named without a confirming try: "So the number is 35." (the teacher's) or any other ending without a hit.
    commitRate: mean(samples.map((s) => (/Yes, that is right\./.test(s.text) ? 0 : 1))),
    tryLinesRight: tryLines.filter(tryLineRight).length / tryLines.length,
    falseHits: hits.some((h) => Number.isNaN(h.target)) ? NaN : falseHits.length / hits.length,
    waitsByChainSteps: Object.fromEntries(
      [...byChainSteps].sort(([a], [b]) => a - b).map(([steps, w]) => [String(steps), mean(w)]),
    ),
  };
}

const metrics = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as StepMetrics);

/** The step an evaluation belongs to: "base" first, "step-000019" its number, a named one its metrics line's. */
function stepOf(name: string): number {
  if (name === 'base') return -1;
  const named = metrics.find((m) => m.checkpointName === name);
  return named !== undefined ? named.step : Number(/(\d+)$/.exec(name)?.[1] ?? Infinity);
}

const facts = evalProblemFacts(runDir);
const evalsDir = join(runDir, 'evals');
const rows = readdirSync(evalsDir)
  .sort((a, b) => stepOf(a) - stepOf(b) || a.localeCompare(b))
  .map((name) => {
    const samples = samplesFilesUnder(join(evalsDir, name)).flatMap((file) =>
      readSamplesSync<SampleLine>(file),
    );
    return rowOf(`${name} (${stepOf(name)})`, samples, facts);
  })
  .filter((row) => row.samples > 0);

const percent = (x: number): string => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(0)}%`).padStart(7);
console.log(
  'checkpoint (step)          pass@1  mean len  wait/resp (SE)  wait/1K  tries  commits  try ok  false hits  wait by chain steps',
);
for (const r of rows) {
  console.log(
    `${r.checkpoint.padEnd(26)} ${(100 * r.pass1).toFixed(1).padStart(5)}%  ${r.meanLength.toFixed(1).padStart(8)}  ` +
      `${r.waitsPerResponse.toFixed(2).padStart(9)} (${r.waitsPerResponseSe.toFixed(2)})  ${r.waitsPer1k.toFixed(1).padStart(7)}  ` +
      `${r.triesPerResponse.toFixed(2).padStart(5)}  ${(100 * r.commitRate).toFixed(0).padStart(6)}%` +
      ` ${percent(r.tryLinesRight)}  ${percent(r.falseHits).padStart(10)}  ` +
      Object.entries(r.waitsByChainSteps)
        .map(([steps, w]) => `${steps}:${w.toFixed(2)}`)
        .join(' '),
  );
}

// The rollouts (metrics.jsonl, T = 1.0 under L(t)), averaged over windows of --window steps: "wait" per
// response is the step's per-1K rate times its mean length (both pooled over the step's samples).
const window = Number(args.window);
console.log(
  `\nrollouts, ${window}-step windows: steps  L(t)  reward  mean len  wait/resp  wait/1K  truncated`,
);
for (let from = 0; from < metrics.length; from += window) {
  const w = metrics.slice(from, from + window);
  const avg = (f: (m: StepMetrics) => number): number => mean(w.map(f));
  console.log(
    `${String(w[0]?.step).padStart(5)}-${String(w[w.length - 1]?.step).padEnd(5)} ${avg((m) => m.maxTokens)
      .toFixed(0)
      .padStart(5)}  ` +
      `${avg((m) => m.rewardMean).toFixed(3)}  ${avg((m) => m.meanLength)
        .toFixed(1)
        .padStart(8)}  ` +
      `${avg((m) => ((m.keywordsPer1k.wait ?? 0) * m.meanLength) / 1000)
        .toFixed(2)
        .padStart(9)}  ` +
      `${avg((m) => m.keywordsPer1k.wait ?? 0)
        .toFixed(1)
        .padStart(7)}  ${(100 * avg((m) => m.truncationRate)).toFixed(0).padStart(8)}%`,
  );
}
if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(rows, null, 2) + '\n');
