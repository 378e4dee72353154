// `siri worker`: starts a worker (workflows + activities) against TEMPORAL_ADDRESS / --address.
import type { Command } from 'commander';
import { runWorker } from '../worker';
import { waitForTemporal } from './dev-server';
import { temporalAddress } from './options';
import { DEFAULT_NAMESPACE, SHARED_TASK_QUEUE } from '../workflows/constants';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('start a worker hosting siri workflows and activities (stops cleanly on SIGINT/SIGTERM)')
    .option('--address <host:port>', 'Temporal frontend (default: $TEMPORAL_ADDRESS or localhost:7233)')
    .option('--namespace <ns>', 'Temporal namespace', DEFAULT_NAMESPACE)
    .option('--task-queue <name>', 'shared task queue', SHARED_TASK_QUEUE)
    .action(async (opts: { address?: string; namespace: string; taskQueue: string }) => {
      const address = temporalAddress(opts.address);
      await waitForTemporal(address, 15_000);
      await runWorker({ address, namespace: opts.namespace, taskQueue: opts.taskQueue });
    });
}
