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

/** The hostile inputs of the issue and the costliest comparisons we found, each graded once (warm). */
export function hostileCases(): [name: string, response: string, gold: string][] {
  const MB = 1 << 20;
  const numbers = Array.from({ length: 450 }, (_, i) => `${i}`);
  const sines = Array.from({ length: 120 }, (_, i) => `\\sin(x+${i})`);
  return [
    ['100,000 nested braces', '\\boxed{' + '{'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}', '1'],
    ['900 nested braces (depth limit)', '\\boxed{' + '{'.repeat(900) + '1' + '}'.repeat(900) + '}', '1'],
    ['9^{9^{9^{9}}}', '\\boxed{9^{9^{9^{9}}}}', '9^{9^{9^{9}}}+1'],
    ['1 MB response, box at the end', 'x'.repeat(MB) + '\\boxed{42}', '42'],
    ['1 MB of \\boxed{', '\\boxed{'.repeat(MB / 7), '1'],
    ['1 MB of look-alike commands', '\\boxedx\\fboxy'.repeat(MB / 13) + '\\boxed{1}', '1'],
    ['lone surrogate', '\\boxed{\uD800}', '1'],
    ['ReDoS shape: 1,000 repeated', '\\boxed{' + '1,000'.repeat(390) + '}', '1'],
    ['ReDoS shape: |x repeated', '\\boxed{' + '|x'.repeat(900) + '}', '1'],
    ['450-item list, reversed', '\\boxed{' + numbers.join(',') + '}', [...numbers].reverse().join(',')],
    ['120 sines, reversed', '\\boxed{' + sines.join(',') + '}', [...sines].reverse().join(',')],
    ['1000!', '\\boxed{1000!}', '1000!+1'],
  ];
}

function timeHostile(): { name: string; reason: string; ms: number }[] {
  return hostileCases().map(([name, response, gold]) => {
    gradeResponse(response, gold);
    const start = performance.now();
    const result = gradeResponse(response, gold);
    return { name, reason: result.reason, ms: Number((performance.now() - start).toFixed(2)) };
  });
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
    hostile: timeHostile(),
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
