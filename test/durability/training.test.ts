// Survives failure: real Temporal dev server, real `siri worker` processes, the real engine, the toy
// world. A run interrupted by a SIGKILL of its worker (during a rollout, an update, a checkpoint write)
// or of the Temporal server must finish with final weights and optimizer state BIT-IDENTICAL to an
// uninterrupted run; a corrupt newest checkpoint makes the run fall back to the previous one with a
// warning; a non-finite step writes no checkpoint, fails non-retryably, and `siri resume` continues
// after the config is fixed.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { startDevServer } from '../../cli/dev-server';
import { trainingWorkflowId } from '../../cli/temporal-client';
import { pauseSignal, progressQuery, resumeSignal, setEvalEveryUpdate } from '../../workflows/messages';
import type { TrainingResult } from '../../workflows/training';
import type { RunStateFile } from '../../workflows/activity-types';
import {
  run,
  siriBin,
  spawnSiri,
  spawnWorker,
  startTestServer,
  startTrainingRun,
  tempDir,
  waitFor,
  type TestServer,
  type WorkerProcess,
} from '../helpers/temporal';
import { makeWorld, sha256, worldAvailable, type World } from './world';

const skip = worldAvailable() ? false : 'the toy base model (toy/base) is not built yet';
const FAST_FAILOVER = ['--heartbeat-timeout', '4', '--host-start-timeout', '4'];

describe('durable training', { skip, timeout: 900_000 }, () => {
  let world: World;
  let server: TestServer;
  let client: Client;
  let reference: { model: string; optimizer: string };

  before(async () => {
    world = await makeWorld(tempDir('durable'));
    server = await startTestServer();
    client = new Client({ connection: await Connection.connect({ address: server.address }) });
  });
  after(async () => {
    await client.connection.close();
    await server.stop();
  });

  async function train(runId: string, configPath: string): Promise<void> {
    await startTrainingRun(server.address, configPath, runId, FAST_FAILOVER);
  }

  async function finish(runId: string): Promise<TrainingResult> {
    return (await client.workflow.getHandle(trainingWorkflowId(runId)).result()) as TrainingResult;
  }

  function finalFiles(result: TrainingResult): { model: string; optimizer: string } {
    return {
      model: sha256(join(result.finalCheckpoint.path, 'model.safetensors')),
      optimizer: sha256(join(result.finalCheckpoint.path, 'optimizer.safetensors')),
    };
  }

  async function stopWorker(worker: WorkerProcess): Promise<void> {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }

  test('an uninterrupted run trains (rewards are not all zero) and is the reference', async () => {
    const worker = spawnWorker(server.address);
    try {
      await train('reference', world.configPath());
      const result = await finish('reference');
      assert.equal(result.steps, 4);
      reference = finalFiles(result);
      const metrics = readFileSync(join(world.dir, 'runs', 'reference', 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { rewardMean: number; gradNorm: number });
      assert.equal(metrics.length, 4);
      assert.ok(
        metrics.some((m) => m.rewardMean > 0 && m.gradNorm > 0),
        'some step must have a learning signal',
      );
    } finally {
      await stopWorker(worker);
    }
  });

  test('the host running ahead (prefetch) changes nothing: a worker with it off gives the same run', async () => {
    type Line = {
      step: number;
      ranAhead?: { rollout: boolean; update: boolean };
      wallMs: unknown;
      tokensPerSecond: number;
      eval?: unknown;
    };
    const readMetrics = (runId: string): Line[] =>
      readFileSync(join(world.dir, 'runs', runId, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line);
    // In the reference, every update and every rollout after the first ran ahead (after an update or an
    // evaluation); some steps were evaluated.
    const ahead = readMetrics('reference');
    assert.deepEqual(
      ahead.map((m) => m.ranAhead),
      ahead.map((_, i) => ({ rollout: i > 0, update: true })),
    );
    assert.ok(ahead.slice(0, -1).some((m) => m.eval !== undefined));
    const worker = spawnWorker(server.address, [], { SIRI_HOST_RUN_AHEAD: '0' });
    try {
      await train('no-run-ahead', world.configPath());
      assert.deepEqual(finalFiles(await finish('no-run-ahead')), reference);
      const plain = readMetrics('no-run-ahead');
      assert.ok(plain.every((m) => m.ranAhead?.rollout === false && m.ranAhead.update === false));
      // Everything but the timings.
      const withoutTimes = (lines: Line[]): unknown[] =>
        lines.map(({ wallMs: _w, tokensPerSecond: _t, ranAhead: _r, ...rest }) => rest);
      assert.deepEqual(withoutTimes(plain), withoutTimes(ahead));
    } finally {
      await stopWorker(worker);
    }
  });

  for (const point of ['rollout', 'update', 'checkpoint'] as const) {
    test(`SIGKILL of the worker during a ${point} → a new worker finishes the run bit-identically`, async () => {
      const runId = `kill-${point}`;
      const doomed = spawnWorker(server.address, [], { SIRI_FAULT: `kill:${point}:2` });
      await train(runId, world.configPath());
      assert.equal(await doomed.exited, null, 'the worker was killed by the fault');
      assert.match(doomed.output(), new RegExp(`SIGKILL at ${point} of step 2`));
      const rescuer = spawnWorker(server.address);
      try {
        const result = await finish(runId);
        assert.equal(result.steps, 4);
        assert.deepEqual(finalFiles(result), reference);
      } finally {
        await stopWorker(rescuer);
      }
    });
  }

  test('SIGKILL of the Temporal server mid-run, restarted on the same SQLite file → same result', async () => {
    const runId = 'kill-server';
    const worker = spawnWorker(server.address);
    try {
      await train(runId, world.configPath());
      const statePath = join(world.dir, 'runs', runId, 'state.json');
      await waitFor(
        'step 2 to be recorded',
        () =>
          existsSync(statePath) &&
          (JSON.parse(readFileSync(statePath, 'utf8')) as RunStateFile).nextStep >= 2,
      );
      server.child.kill('SIGKILL');
      await server.exited;
      const restarted = await startDevServer({
        port: server.port,
        uiPort: server.uiPort,
        dbFile: server.dbFile,
        headless: true,
      });
      Object.assign(server, restarted);
      await client.connection.close();
      client = new Client({ connection: await Connection.connect({ address: server.address }) });
      const result = await finish(runId);
      assert.equal(result.steps, 4);
      assert.deepEqual(finalFiles(result), reference);
    } finally {
      await stopWorker(worker);
    }
  });

  test('a corrupt newest checkpoint → fallback to the previous one with a warning, same result', async () => {
    const runId = 'corrupt';
    let worker = spawnWorker(server.address);
    await train(runId, world.configPath());
    const handle = client.workflow.getHandle(trainingWorkflowId(runId));
    const statePath = join(world.dir, 'runs', runId, 'state.json');
    await waitFor(
      'step 2 to be recorded',
      () =>
        existsSync(statePath) && (JSON.parse(readFileSync(statePath, 'utf8')) as RunStateFile).nextStep >= 2,
    );
    await handle.signal(pauseSignal);
    await waitFor('the pause', async () => (await handle.query(progressQuery)).activity === 'paused');
    // The worker holding the policy dies; the next one must read the newest checkpoint from disk.
    worker.child.kill('SIGKILL');
    await worker.exited;
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as RunStateFile;
    const weights = join(state.checkpoint.path, 'model.safetensors');
    const bytes = readFileSync(weights);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
    writeFileSync(weights, bytes);
    worker = spawnWorker(server.address);
    try {
      await handle.signal(resumeSignal);
      const result = (await handle.result()) as TrainingResult;
      assert.equal(result.steps, 4);
      assert.equal(result.warnings.length, 1);
      assert.match(
        result.warnings[0] ?? '',
        new RegExp(`checkpoint ${state.checkpoint.path} is corrupt.*model\\.safetensors.*falling back to`),
      );
      assert.match(readFileSync(join(world.dir, 'runs', runId, 'warnings.jsonl'), 'utf8'), /is corrupt/);
      assert.deepEqual(finalFiles(result), reference);
    } finally {
      await stopWorker(worker);
    }
  });

  test('a non-finite step writes no checkpoint, fails non-retryably, and resumes after a config fix', async () => {
    const runId = 'nan';
    const worker = spawnWorker(server.address);
    try {
      await train(runId, world.configPath({ lr: 1e30 }));
      const failure = await finish(runId).then(
        () => null,
        (err: unknown) => err,
      );
      assert.ok(failure instanceof WorkflowFailedError);
      const message = String((failure.cause?.cause as Error | undefined)?.message ?? failure.message);
      assert.match(message, /^step 0: .*not finite.*no checkpoint was written/);
      assert.equal(existsSync(join(world.dir, 'runs', runId, 'checkpoints', 'ckpt-000001')), false);
      const fixed = world.configPath();
      const resumed = await run(process.execPath, [
        siriBin,
        'resume',
        runId,
        '--config',
        fixed,
        '--detach',
        '--address',
        server.address,
      ]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /resumed at step 0/);
      const result = await finish(runId);
      assert.equal(result.steps, 4);
      assert.deepEqual(finalFiles(result), reference);
    } finally {
      await stopWorker(worker);
    }
  });

  test('Ctrl-C on a follower (`siri status --follow`) detaches in one line and the run goes on', async () => {
    const runId = 'follow';
    const worker = spawnWorker(server.address);
    try {
      await train(runId, world.configPath({ totalSteps: 40 }));
      const handle = client.workflow.getHandle(trainingWorkflowId(runId));
      await waitFor('the first step', async () => (await handle.query(progressQuery)).step > 0);
      await handle.signal(pauseSignal); // so that it is still running when the follower detaches
      const follower = spawnSiri(['status', runId, '--follow', '--address', server.address]);
      await waitFor('the follower to start following', () => follower.stdout().includes('Web UI:'));
      await new Promise((r) => setTimeout(r, 2500)); // inside the follow loop, between polls
      follower.child.kill('SIGINT');
      const code = await follower.exited;
      assert.equal(code, 0, `the follower exited with ${code}: ${follower.stderr()}`);
      assert.match(follower.stdout(), /detached; the run goes on\. Follow it again with: siri status follow/);
      assert.doesNotMatch(follower.stderr(), /Error|at /, 'no error or stack trace after a detach');
      assert.equal((await handle.describe()).status.name, 'RUNNING', 'the run goes on');
      await handle.signal(resumeSignal);
      const cancelled = await run(process.execPath, [siriBin, 'cancel', runId, '--address', server.address]);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      await assert.rejects(handle.result(), /cancel/i);
    } finally {
      await stopWorker(worker);
    }
  });

  test('pause, eval-cadence update (validated), and a clean cancel that keeps the last checkpoint', async () => {
    const runId = 'steer';
    const worker = spawnWorker(server.address);
    try {
      await train(runId, world.configPath({ totalSteps: 40 }));
      const handle = client.workflow.getHandle(trainingWorkflowId(runId));
      const rejected = await handle.executeUpdate(setEvalEveryUpdate, { args: [0] }).then(
        () => null,
        (err: unknown) => err as Error & { cause?: Error },
      );
      assert.match(String(rejected?.cause?.message), /everySteps must be a positive integer, got 0/);
      assert.equal(await handle.executeUpdate(setEvalEveryUpdate, { args: [7] }), 100);
      assert.equal((await handle.query(progressQuery)).evalEverySteps, 7);
      await handle.signal(pauseSignal);
      await waitFor('the pause', async () => (await handle.query(progressQuery)).activity === 'paused');
      const pausedAt = (await handle.query(progressQuery)).step;
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal((await handle.query(progressQuery)).step, pausedAt, 'no step runs while paused');
      await handle.signal(resumeSignal);
      await waitFor('a step after resuming', async () => (await handle.query(progressQuery)).step > pausedAt);
      const cancelled = await run(process.execPath, [siriBin, 'cancel', runId, '--address', server.address]);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      await assert.rejects(handle.result(), /cancel/i);
      const state = JSON.parse(
        readFileSync(join(world.dir, 'runs', runId, 'state.json'), 'utf8'),
      ) as RunStateFile;
      const { verifyCheckpointRef } = await import('../../training/checkpoints');
      await verifyCheckpointRef(state.checkpoint);
    } finally {
      await stopWorker(worker);
    }
  });
});
