// Benchmark: our grader vs Math-Verify on the same pairs (bench/grader-pairs.ts, ≥ 2,000), one process
// each, grading time only (after a 20-pair warm-up on both sides, as the Python script does). Writes
// bench/results/grader-bench.json with the machine, the date, grades per second for each and the ratio.
//   node --import tsx bench/grader-bench.ts
import { cpus, platform, release, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPairs } from './grader-pairs';
import { REPO_ROOT, runMathVerify } from './grader-reference';
import { gradeResponse } from '../grader/node/index';

export interface OurTiming {
  seconds: number;
  correct: number;
  /** Slowest single grade, in milliseconds. */
  maxMs: number;
  p99Ms: number;
}

export function timeOurs(pairs: ReturnType<typeof buildPairs>): OurTiming {
  for (const p of pairs.slice(0, 20)) gradeResponse(p.response, p.gold, p.options);
  const each: number[] = [];
  let correct = 0;
  const start = performance.now();
  for (const p of pairs) {
    const t = performance.now();
    if (gradeResponse(p.response, p.gold, p.options).correct) correct++;
    each.push(performance.now() - t);
  }
  const seconds = (performance.now() - start) / 1000;
  each.sort((a, b) => a - b);
  return {
    seconds,
    correct,
    maxMs: each[each.length - 1] ?? 0,
    p99Ms: each[Math.floor(each.length * 0.99)] ?? 0,
  };
}

function main(): void {
  const pairs = buildPairs();
  const ours = timeOurs(pairs);
  const reference = runMathVerify(pairs);
  const mvCorrect = [...reference.verdicts.values()].filter(Boolean).length;
  const oursRate = pairs.length / ours.seconds;
  const mvRate = pairs.length / reference.seconds;
  const cpu = cpus();
  const result = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${platform()} ${release()}`,
      node: process.version,
      python: reference.python,
    },
    pairs: pairs.length,
    ours: {
      gradesPerSecond: Math.round(oursRate),
      seconds: Number(ours.seconds.toFixed(3)),
      correct: ours.correct,
      p99Ms: Number(ours.p99Ms.toFixed(3)),
      maxMs: Number(ours.maxMs.toFixed(3)),
    },
    mathVerify: {
      version: reference.mathVerify,
      sympy: reference.sympy,
      gradesPerSecond: Math.round(mvRate),
      seconds: Number(reference.seconds.toFixed(3)),
      correct: mvCorrect,
    },
    ratio: Number((oursRate / mvRate).toFixed(1)),
    note: 'single process each, grading time only (parsing + comparison), after a 20-pair warm-up; same pairs',
  };
  const out = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'grader-bench.json'), JSON.stringify(result, null, 2) + '\n');
  console.log(
    `ours ${result.ours.gradesPerSecond} grades/s, Math-Verify ${result.mathVerify.gradesPerSecond} grades/s: ${result.ratio}× (${pairs.length} pairs); written bench/results/grader-bench.json`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) main();
