// Orchestration overhead per training step, with a real Temporal dev server and real workers:
// 1. round trips: a workflow doing n × (activity on another queue + local activity) with no-op bodies,
//    on the dev server as it ships and with siri's settings (LOW_LATENCY_DYNAMIC_CONFIG) — the floor;
// 2. the toy config (`preset: toy`, the demo's run) in a `siri worker` process: for consecutive steps,
//      overhead(t) = (start(t+1) − start(t)) − (rollout + reward + update [+ evaluate]) wall times of t,
//    i.e. everything that is not the activities' own work: workflow tasks, activity dispatch, the
//    record-step bookkeeping, history writes. Goal: ≤ 50 ms per step and ≤ 2% of step time.
// Usage: node --import tsx bench/orchestration.ts [--steps 30]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { trainingWorkflowId } from '../cli/temporal-client';
import { engineInfo } from '../native';
import type { StepMetrics } from '../workflows/types';
import { projectRoot, run, siriBin, spawnWorker, startTestServer, tempDir } from '../test/helpers/temporal';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1] || 30);
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;

Runtime.install({ logger: new DefaultLogger('ERROR') });

/** Milliseconds per (activity + local activity) round trip of a no-op workflow loop. */
async function roundTripMs(lowLatency: boolean, iterations = 100): Promise<number> {
  const server = await startTestServer(undefined, { lowLatency });
  const connection = await NativeConnection.connect({ address: server.address });
  const activities = { noop: async (x: number): Promise<number> => x };
  const workflows = await Worker.create({
    connection,
    taskQueue: 'bench-workflows',
    workflowsPath: join(import.meta.dirname, 'roundtrip', 'workflow.ts'),
    activities,
  });
  const host = await Worker.create({
    connection,
    taskQueue: 'bench-host',
    activities,
    maxConcurrentActivityTaskExecutions: 1,
  });
  const running = Promise.all([workflows.run(), host.run()]);
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  try {
    const start = (id: string, n: number): Promise<number> =>
      client.workflow.execute('roundTrips', {
        taskQueue: 'bench-workflows',
        workflowId: id,
        args: [n, 'bench-host'],
      });
    await start('warm-up', 5);
    const t0 = performance.now();
    await start('measured', iterations);
    return (performance.now() - t0) / iterations;
  } finally {
    await client.connection.close();
    workflows.shutdown();
    host.shutdown();
    await running;
    await connection.close();
    await server.stop();
  }
}

interface StepRow {
  step: number;
  stepMs: number;
  computeMs: number;
  overheadMs: number;
}

/** Trains the toy preset for `steps` steps and returns per-step overhead rows. */
async function toyOverhead(): Promise<StepRow[]> {
  const dir = tempDir('bench-orch');
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      preset: 'toy',
      modelDir: join(projectRoot, 'toy', 'base'),
      runDir: join(dir, 'runs'),
      trainData: { files: [join(projectRoot, 'toy', 'data', 'train.jsonl')] },
      eval: { dataFiles: [join(projectRoot, 'toy', 'data', 'eval.jsonl')] },
      totalSteps: steps,
    }),
  );
  const server = await startTestServer();
  const worker = spawnWorker(server.address);
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  try {
    const started = await run(process.execPath, [
      siriBin,
      'train',
      '--config',
      configPath,
      '--run-id',
      'bench',
      '--detach',
      '--address',
      server.address,
    ]);
    if (started.code !== 0) throw new Error(started.stderr);
    await client.workflow.getHandle(trainingWorkflowId('bench')).result();
  } finally {
    await client.connection.close();
    worker.child.kill('SIGTERM');
    await worker.exited;
    await server.stop();
  }
  const metrics = readFileSync(join(dir, 'runs', 'bench', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as StepMetrics);
  const rows: StepRow[] = [];
  for (let t = 0; t + 1 < metrics.length; t++) {
    const a = metrics[t] as StepMetrics;
    const b = metrics[t + 1] as StepMetrics;
    const gap = (b.wallMs.startedAtMs ?? 0) - (a.wallMs.startedAtMs ?? 0);
    const compute = a.wallMs.rollout + a.wallMs.reward + a.wallMs.update + (a.wallMs.evaluate ?? 0);
    rows.push({ step: a.step, stepMs: gap, computeMs: compute, overheadMs: gap - compute });
  }
  return rows;
}

const roundTripDefaultMs = await roundTripMs(false);
const roundTripSiriMs = await roundTripMs(true);
console.log(
  `no-op round trip (activity + local activity): ${roundTripDefaultMs.toFixed(1)} ms on the stock dev server, ${roundTripSiriMs.toFixed(1)} ms with siri's settings`,
);
const rows = await toyOverhead();
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
  roundTrip: {
    what: 'ms per (activity on another task queue + local activity), no-op bodies, 100 iterations',
    stockDevServerMs: roundTripDefaultMs,
    siriDevServerMs: roundTripSiriMs,
    speedup: roundTripDefaultMs / roundTripSiriMs,
  },
  config: `preset toy (8 prompts × 8 samples, cosine 256/128, eval every 10 steps), ${steps} steps, one siri worker process`,
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
