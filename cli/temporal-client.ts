// A Temporal client for CLI commands, plus the names and links the commands share.
import { Client, Connection } from '@temporalio/client';
import { CliError } from './errors';
import { waitForTemporal } from './dev-server';
import { DEFAULT_NAMESPACE } from '../workflows/constants';

export interface CliClient {
  client: Client;
  address: string;
  namespace: string;
  close: () => Promise<void>;
}

export async function connectClient(address: string, namespace = DEFAULT_NAMESPACE): Promise<CliClient> {
  await waitForTemporal(address, 5_000).catch(() => {
    throw new CliError(
      `no Temporal server at ${address}; start one with \`siri server\` (or set TEMPORAL_ADDRESS / --address)`,
    );
  });
  const connection = await Connection.connect({ address });
  return {
    client: new Client({ connection, namespace }),
    address,
    namespace,
    close: () => connection.close(),
  };
}

/** Workflow id of a training run. */
export function trainingWorkflowId(runId: string): string {
  return `siri-train-${runId}`;
}

/** The Web UI page of a workflow: $SIRI_UI_URL, else the dev server's default (frontend port + 1000). */
export function webUiLink(address: string, namespace: string, workflowId: string): string {
  const base = process.env.SIRI_UI_URL ?? defaultUiBase(address);
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function defaultUiBase(address: string): string {
  const [host, port] = address.split(':');
  const uiPort = Number(port ?? 7233) + 1000;
  return `http://${host === '127.0.0.1' || host === undefined ? 'localhost' : host}:${uiPort}`;
}
