// Orchestration overhead per training step, with a real Temporal dev server and real workers:
// 1. round trips: a workflow doing n × (activity on another queue + local activity) with no-op bodies,
//    on the dev server as it ships and with siri's settings (LOW_LATENCY_DYNAMIC_CONFIG) — the floor;
// 2. the toy config (`preset: toy`, the demo's run) in a `siri worker` process, three ways: the stock
//    dev server with the host not running ahead (SIRI_HOST_RUN_AHEAD=0), siri's server settings without
//    and with the host running ahead (training/host-prefetch.ts). For consecutive steps,
//      overhead(t) = (start(t+1) − start(t)) − (rollout + reward + update [+ evaluate]) wall times of t,
//    i.e. everything that is not the activities' own work: workflow tasks, activity dispatch, the
//    record-step bookkeeping, history writes (when the update ran ahead, "reward" is left out: the
//    workflow's grading ran beside the host's update, and the host's own grading counts as overhead).
//    start(t) is when step t's generation began. Goal: ≤ 50 ms per step and ≤ 2% of step time.
// Usage: node --import tsx bench/orchestration.ts [--steps 20]   (about 6 minutes on 2 cores)
import { benchMachine } from './machine';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { trainingWorkflowId } from '../cli/temporal-client';
import { presetConfig } from '../siri/config';
import type { StepMetrics } from '../workflows/types';
import {
  projectRoot,
  spawnWorker,
  startTestServer,
  startTrainingRun,
  tempDir,
} from '../test/helpers/temporal';

const stepsFlag = process.argv.indexOf('--steps');
const steps = stepsFlag >= 0 ? Number(process.argv[stepsFlag + 1]) : 20;
/** The toy preset's shape, as measured (the preset may be retuned). */
function toyShape(): string {
  const { batchPrompts, groupSize, schedule } = presetConfig('toy');
  const budgets = 'lMin' in schedule ? ` ${schedule.lMax}/${schedule.lMin}` : '';
  return `${batchPrompts} prompts × ${groupSize} samples, ${schedule.kind}${budgets}`;
}
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
async function toyOverhead(variant: { lowLatency: boolean; runAhead: boolean }): Promise<StepRow[]> {
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
  const server = await startTestServer(undefined, { lowLatency: variant.lowLatency });
  const worker = spawnWorker(server.address, [], variant.runAhead ? {} : { SIRI_HOST_RUN_AHEAD: '0' });
  const client = new Client({ connection: await Connection.connect({ address: server.address }) });
  try {
    await startTrainingRun(server.address, configPath, 'bench');
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
    // When the update ran ahead, the workflow's reward ran beside it (off the critical path) and the
    // host's own grading is left inside the overhead: an upper bound.
    const reward = a.ranAhead?.update ? 0 : a.wallMs.reward;
    const compute = a.wallMs.rollout + reward + a.wallMs.update + (a.wallMs.evaluate ?? 0);
    rows.push({ step: a.step, stepMs: gap, computeMs: compute, overheadMs: gap - compute });
  }
  return rows;
}

const roundTripDefaultMs = await roundTripMs(false);
const roundTripSiriMs = await roundTripMs(true);
console.log(
  `no-op round trip (activity + local activity): ${roundTripDefaultMs.toFixed(1)} ms on the stock dev server, ${roundTripSiriMs.toFixed(1)} ms with siri's settings`,
);
const summarize = (rows: StepRow[]) => {
  const overhead = rows.map((r) => r.overheadMs);
  const stepMs = rows.map((r) => r.stepMs);
  const sorted = [...overhead].sort((x, y) => x - y);
  return {
    steps: rows.length,
    medianOverheadMs: median(overhead),
    p90OverheadMs: sorted[Math.floor(0.9 * (sorted.length - 1))] ?? 0,
    meanOverheadMs: overhead.reduce((s, x) => s + x, 0) / overhead.length,
    medianStepMs: median(stepMs),
    overheadFractionOfStep: median(overhead) / median(stepMs),
    totalOverheadFraction: overhead.reduce((s, x) => s + x, 0) / stepMs.reduce((s, x) => s + x, 0),
    rows,
  };
};
const variants = {
  stockServerNoRunAhead: { lowLatency: false, runAhead: false },
  siriServerNoRunAhead: { lowLatency: true, runAhead: false },
  siri: { lowLatency: true, runAhead: true },
};
const toy: Record<string, ReturnType<typeof summarize>> = {};
for (const [name, variant] of Object.entries(variants)) {
  toy[name] = summarize(await toyOverhead(variant));
  const t = toy[name];
  console.log(
    `${name}: median overhead ${t.medianOverheadMs} ms per step (${(100 * t.overheadFractionOfStep).toFixed(1)}% of a ${t.medianStepMs} ms step), p90 ${t.p90OverheadMs} ms, all steps ${(100 * t.totalOverheadFraction).toFixed(1)}% of wall time`,
  );
}
const siri = toy.siri as ReturnType<typeof summarize>;
const result = {
  benchmark: 'orchestration-overhead',
  date: new Date().toISOString(),
  machine: benchMachine(),

  roundTrip: {
    what: 'ms per (activity on another task queue + local activity), no-op bodies, 100 iterations',
    stockDevServerMs: roundTripDefaultMs,
    siriDevServerMs: roundTripSiriMs,
    speedup: roundTripDefaultMs / roundTripSiriMs,
  },
  config: `preset toy (${toyShape()}, eval every 10 steps and at named checkpoints), ${steps} steps, one siri worker process`,
  goal: { overheadMs: 50, fraction: 0.02 },
  medianOverheadMs: siri.medianOverheadMs,
  overheadFractionOfStep: siri.overheadFractionOfStep,
  ratioVsStock: {
    medianOverhead: (toy.stockServerNoRunAhead?.medianOverheadMs ?? 0) / Math.max(1, siri.medianOverheadMs),
  },
  variants: toy,
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  join(import.meta.dirname, 'results', 'orchestration.json'),
  JSON.stringify(result, null, 2) + '\n',
);
