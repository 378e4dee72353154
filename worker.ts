// The siri worker: hosts the workflows and activities against a Temporal server. Shuts down cleanly on
// SIGINT/SIGTERM: it stops polling, lets in-flight activities finish within the grace period, then
// cancels what is left (activities see the cancellation through their heartbeats).
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { NativeConnection, Runtime, Worker, DefaultLogger, type LogLevel } from '@temporalio/worker';
import * as activities from './activities';
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

/** Creates (but does not run) a worker for the shared task queue. */
export async function createSiriWorker(options: WorkerOptions): Promise<Worker> {
  installRuntime(options.logLevel ?? 'WARN');
  const connection = await NativeConnection.connect({ address: options.address });
  return Worker.create({
    connection,
    namespace: options.namespace ?? DEFAULT_NAMESPACE,
    taskQueue: options.taskQueue ?? SHARED_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities,
    shutdownGraceTime: options.shutdownGraceMs ?? 30_000,
  });
}

/** Runs a worker until a shutdown signal (handled by the Temporal runtime) or a fatal error. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const worker = await createSiriWorker(options);
  console.log(
    `siri worker: polling task queue "${options.taskQueue ?? SHARED_TASK_QUEUE}" on ${options.address} (pid ${process.pid}); Ctrl-C stops it cleanly`,
  );
  await worker.run();
  console.log('siri worker: stopped cleanly');
}
