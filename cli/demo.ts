// `siri demo` (what `npm run demo` runs). Until the toy training run exists, it starts the embedded
// Temporal server and a worker, proves the path end to end with the healthCheck workflow (a real
// activity on the real native engine), and says plainly what it is waiting for. It does not train.
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { startDevServer } from './dev-server';
import { createSiriWorker } from '../worker';
import { parsePort } from './options';
import { SHARED_TASK_QUEUE } from '../workflows/constants';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start the embedded server and a worker and run the default demo')
    .option('--port <port>', 'gRPC port for the embedded server', '7233')
    .option('--ui-port <port>', 'Web UI port', '8233')
    .option('--db <file>', 'SQLite file', '.siri/temporal.db')
    .action(async (opts: { port: string; uiPort: string; db: string }) => {
      const server = await startDevServer({
        port: parsePort('--port', opts.port),
        uiPort: parsePort('--ui-port', opts.uiPort),
        dbFile: opts.db,
      });
      console.log(`Temporal server up at ${server.address}; Web UI: ${server.uiUrl}`);
      const worker = await createSiriWorker({ address: server.address });
      const running = worker.run();
      try {
        const connection = await Connection.connect({ address: server.address });
        const client = new Client({ connection });
        const report = await client.workflow.execute('healthCheck', {
          taskQueue: SHARED_TASK_QUEUE,
          workflowId: `siri-demo-health-${Date.now()}`,
        });
        console.log(
          'End-to-end check passed (workflow → activity → native engine):',
          JSON.stringify(report.engine),
        );
        console.log(
          'Waiting for: the toy SIRI training run (issue 8) — no training is performed by this demo yet.',
        );
        await connection.close();
      } finally {
        worker.shutdown();
        await running;
        await server.stop();
      }
    });
}
