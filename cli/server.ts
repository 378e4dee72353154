// `siri server`: runs the embedded Temporal dev server (SQLite file, Web UI) until Ctrl-C.
import type { Command } from 'commander';
import { startDevServer } from './dev-server';
import { parsePort } from './options';
import { DEFAULT_UI_PORT } from '../workflows/constants';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the embedded Temporal dev server (SQLite persistence, Web UI, siri search attributes)')
    .option('--port <port>', 'gRPC frontend port', '7233')
    .option('--ui-port <port>', 'Web UI port', String(DEFAULT_UI_PORT))
    .option('--db <file>', 'SQLite file holding all workflow state', '.siri/temporal.db')
    .option('--ip <ip>', 'address to bind', '127.0.0.1')
    .option('--headless', 'no Web UI')
    .option('--verbose', 'show the server log')
    .action(
      async (opts: {
        port: string;
        uiPort: string;
        db: string;
        ip: string;
        headless?: boolean;
        verbose?: boolean;
      }) => {
        const server = await startDevServer({
          port: parsePort('--port', opts.port),
          uiPort: parsePort('--ui-port', opts.uiPort),
          dbFile: opts.db,
          ip: opts.ip,
          headless: opts.headless ?? false,
          stdio: opts.verbose ? 'inherit' : 'ignore',
        });
        console.log(`Temporal server: ${server.address} (namespace default, state in ${opts.db})`);
        if (server.uiUrl) console.log(`Web UI: ${server.uiUrl}`);
        console.log('Press Ctrl-C to stop. Workflows persist in the SQLite file across restarts.');
        const shutdown = (): void => void server.stop();
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
        const code = await server.exited;
        process.off('SIGINT', shutdown);
        process.off('SIGTERM', shutdown);
        if (code !== 0 && code !== null) process.exitCode = code;
      },
    );
}
