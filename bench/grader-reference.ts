// Runs Math-Verify (scripts/grader-mathverify.py in the project venv) on pairs and reads its verdicts back.
// Shared by the differential test and the benchmark.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REPO_ROOT = new URL('..', import.meta.url).pathname;

export interface ReferenceRun {
  verdicts: Map<string, boolean>;
  seconds: number;
  python: string;
  mathVerify: string;
  sympy: string;
}

/** The venv's python when it exists (it has math-verify pinned), else python3 from PATH. */
export function pythonPath(): string {
  const venv = join(REPO_ROOT, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

export function mathVerifyAvailable(): boolean {
  const probe = spawnSync(pythonPath(), ['-c', 'import math_verify'], { encoding: 'utf8' });
  return probe.status === 0;
}

export function runMathVerify(pairs: { id: string; response: string; gold: string }[]): ReferenceRun {
  const dir = mkdtempSync(join(tmpdir(), 'siri-mathverify-'));
  try {
    const input = join(dir, 'pairs.jsonl');
    const output = join(dir, 'results.jsonl');
    writeFileSync(
      input,
      pairs.map((p) => JSON.stringify({ id: p.id, response: p.response, gold: p.gold })).join('\n') + '\n',
    );
    const run = spawnSync(pythonPath(), [join(REPO_ROOT, 'scripts', 'grader-mathverify.py'), input, output], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (run.status !== 0)
      throw new Error(`Math-Verify run failed: ${run.stderr.split('\n').slice(-5).join(' ')}`);
    const summary = JSON.parse(run.stdout.trim().split('\n').pop()!) as Omit<ReferenceRun, 'verdicts'>;
    const verdicts = new Map<string, boolean>();
    for (const line of readFileSync(output, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { id: string; correct: boolean };
      verdicts.set(r.id, r.correct);
    }
    return { ...summary, verdicts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
