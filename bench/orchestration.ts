// Orchestration overhead per training step on the toy config with a real Temporal dev server and a real
// worker process: for consecutive steps t, t+1,
//   overhead(t) = (start(t+1) − start(t)) − (rollout + reward + update [+ evaluate]) wall times of step t,
// i.e. everything that is not the activities' own work: workflow tasks, activity scheduling, the
// record-step bookkeeping, history writes. Goal: ≤ 50 ms per step and ≤ 2% of step time.
// Usage: node --import tsx bench/orchestration.ts [--steps 30]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { trainingWorkflowId } from '../cli/temporal-client';
import { engineInfo } from '../native';
import type { StepMetrics } from '../workflows/types';
import { run, siriBin, spawnWorker, startTestServer, tempDir } from '../test/helpers/temporal';
import { makeWorld } from '../test/durability/world';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1] || 30);

const world = await makeWorld(tempDir('bench-orch'));
const server = await startTestServer();
const worker = spawnWorker(server.address);
const client = new Client({ connection: await Connection.connect({ address: server.address }) });
try {
  // Long cycle so the budget stays near lMax; evaluation only at the named checkpoints.
  const config = world.configPath({
    totalSteps: steps,
    schedule: { kind: 'cosine', lMax: 256, lMin: 128, cycle: 1000 },
  });
  const started = await run(process.execPath, [
    siriBin,
    'train',
    '--config',
    config,
    '--run-id',
    'bench',
    '--detach',
    '--address',
    server.address,
  ]);
  if (started.code !== 0) throw new Error(started.stderr);
  await client.workflow.getHandle(trainingWorkflowId('bench')).result();
  const metrics = readFileSync(join(world.dir, 'runs', 'bench', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as StepMetrics);
  const rows = [];
  for (let t = 0; t + 1 < metrics.length; t++) {
    const a = metrics[t] as StepMetrics;
    const b = metrics[t + 1] as StepMetrics;
    const gap = (b.wallMs.startedAtMs ?? 0) - (a.wallMs.startedAtMs ?? 0);
    const compute = a.wallMs.rollout + a.wallMs.reward + a.wallMs.update + (a.wallMs.evaluate ?? 0);
    rows.push({ step: a.step, stepMs: gap, computeMs: compute, overheadMs: gap - compute });
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  const overhead = rows.map((r) => r.overheadMs);
  const stepMs = rows.map((r) => r.stepMs);
  const result = {
    benchmark: 'orchestration-overhead',
    date: new Date().toISOString(),
    machine: {
      host: hostname(),
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      torch: engineInfo().torchVersion,
    },
    config: 'toy world (test/durability/world.ts): 2 prompts × 4 samples, L≈96, 1 update per step',
    steps: rows.length,
    medianOverheadMs: median(overhead),
    meanOverheadMs: overhead.reduce((s, x) => s + x, 0) / overhead.length,
    medianStepMs: median(stepMs),
    overheadFractionOfStep: median(overhead) / median(stepMs),
    goal: { overheadMs: 50, fraction: 0.02 },
    rows,
  };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    join(import.meta.dirname, 'results', 'orchestration.json'),
    JSON.stringify(result, null, 2) + '\n',
  );
  console.log(
    `orchestration overhead: median ${result.medianOverheadMs} ms per step (${(100 * result.overheadFractionOfStep).toFixed(1)}% of a ${result.medianStepMs} ms step) over ${rows.length} steps`,
  );
} finally {
  await client.connection.close();
  worker.child.kill('SIGTERM');
  await worker.exited;
  await server.stop();
}
