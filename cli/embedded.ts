// For commands that should work on a laptop with nothing running (demo, experiment): use the Temporal
// server answering at the address if there is one, else start the embedded dev server; optionally host
// a worker in this process for the duration of the command.
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { parsePort } from './options';
import { createSiriWorker, type SiriWorkers } from '../worker';
import { startDevServer, waitForTemporal, type DevServerHandle } from './dev-server';

export interface EmbeddedOptions {
  port: number;
  uiPort: number;
  db: string;
}

export interface Embedded {
  address: string;
  client: Client;
  /** Starts a worker in this process (once); it stops when the command ends. */
  startWorker: () => Promise<void>;
  /**
   * Settles when the hosted worker stops before the command ends: Ctrl-C or SIGTERM shut it down (the
   * runtime's signal handlers), or it failed. Never settles while no worker was started.
   */
  workerStopped: () => Promise<void>;
}

export async function withEmbeddedTemporal<T>(
  options: EmbeddedOptions,
  fn: (env: Embedded) => Promise<T>,
): Promise<T> {
  const address = `127.0.0.1:${options.port}`;
  let server: DevServerHandle | null = null;
  const reuse = await waitForTemporal(address, 1500).then(
    () => true,
    () => false,
  );
  if (reuse) console.log(`found a Temporal server already answering at ${address}; using it`);
  else {
    server = await startDevServer({ port: options.port, uiPort: options.uiPort, dbFile: options.db });
    console.log(`Temporal server up at ${server.address} (state in ${options.db}); Web UI: ${server.uiUrl}`);
  }
  const connection = await Connection.connect({ address });
  const hosted: { workers: SiriWorkers | null; running: Promise<void> } = {
    workers: null,
    running: Promise.resolve(),
  };
  try {
    return await fn({
      address,
      client: new Client({ connection }),
      startWorker: async () => {
        if (hosted.workers) return;
        hosted.workers = await createSiriWorker({ address });
        hosted.running = hosted.workers.run();
      },
      workerStopped: () =>
        hosted.workers ? hosted.running.catch(() => undefined) : new Promise<void>(() => undefined),
    });
  } finally {
    hosted.workers?.shutdown();
    await hosted.running;
    await connection.close();
    await server?.stop();
  }
}

/** The flags of a command that may start the embedded server. */
export function addEmbeddedServerOptions(command: Command): Command {
  return command
    .option('--port <port>', 'Temporal port (the embedded server is started there if none answers)', '7233')
    .option('--ui-port <port>', 'Web UI port of the embedded server', '8233')
    .option('--db <file>', 'SQLite file of the embedded server', '.siri/temporal.db');
}

export function embeddedOptionsFrom(opts: { port: string; uiPort: string; db: string }): EmbeddedOptions {
  return { port: parsePort('--port', opts.port), uiPort: parsePort('--ui-port', opts.uiPort), db: opts.db };
}
