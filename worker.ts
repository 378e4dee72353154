// The siri worker: hosts the workflows and activities against a Temporal server. Shuts down cleanly on
// SIGINT/SIGTERM: it stops polling, lets in-flight activities finish within the grace period, then
// cancels what is left (activities see the cancellation through their heartbeats).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { NativeConnection, Runtime, Worker, DefaultLogger, type LogLevel } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as activities from './activities';
import { setHostQueue } from './activities/acquire-host';
import { releasePolicy } from './training/policy-host';
import { DEFAULT_NAMESPACE, SHARED_TASK_QUEUE } from './workflows/constants';

const here = dirname(fileURLToPath(import.meta.url));
export const WORKFLOWS_PATH = join(here, 'workflows', 'index.ts');

export interface WorkerOptions {
  address: string;
  namespace?: string;
  taskQueue?: string;
  /** How long in-flight activities may run after a shutdown signal before they are cancelled. */
  shutdownGraceMs?: number;
  logLevel?: LogLevel;
}

let runtimeInstalled = false;

function installRuntime(logLevel: LogLevel): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger(logLevel), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  runtimeInstalled = true;
}

/**
 * A siri worker process is two Temporal workers on one connection: one on the shared task queue
 * (workflows and light activities, including acquireHost) and one on a queue unique to this process
 * (the model activities of the runs whose policy this process holds).
 */
export interface SiriWorkers {
  shared: Worker;
  host: Worker;
  hostQueue: string;
  /** Runs both until shutdown; resolves when both have stopped. */
  run(): Promise<void>;
  shutdown(): void;
}

export function uniqueHostQueue(): string {
  return `${SHARED_TASK_QUEUE}-host-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Creates (but does not run) the shared and host workers. */
export async function createSiriWorker(options: WorkerOptions): Promise<SiriWorkers> {
  installRuntime(options.logLevel ?? 'WARN');
  const connection = await NativeConnection.connect({ address: options.address });
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const shutdownGraceTime = options.shutdownGraceMs ?? 30_000;
  const hostQueue = uniqueHostQueue();
  setHostQueue(hostQueue);
  const shared = await Worker.create({
    connection,
    namespace,
    taskQueue: options.taskQueue ?? SHARED_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities,
    shutdownGraceTime,
  });
  const host = await Worker.create({
    connection,
    namespace,
    taskQueue: hostQueue,
    activities,
    // One model activity at a time: the policy is one object in this process's memory.
    maxConcurrentActivityTaskExecutions: 1,
    shutdownGraceTime,
  });
  return {
    shared,
    host,
    hostQueue,
    run: async () => {
      try {
        await Promise.all([shared.run(), host.run()]);
      } finally {
        releasePolicy();
        await connection.close();
      }
    },
    shutdown: () => {
      if (shared.getState() === 'RUNNING') shared.shutdown();
      if (host.getState() === 'RUNNING') host.shutdown();
    },
  };
}

/** Runs a worker until a shutdown signal (handled by the Temporal runtime) or a fatal error. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const workers = await createSiriWorker(options);
  console.log(
    `siri worker: polling "${options.taskQueue ?? SHARED_TASK_QUEUE}" and host queue "${workers.hostQueue}" on ${options.address} (pid ${process.pid}); Ctrl-C stops it cleanly`,
  );
  await workers.run();
  console.log('siri worker: stopped cleanly');
}
