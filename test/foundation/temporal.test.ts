// Integration: a real Temporal dev server (our binary, free port, temp SQLite file) and a real worker
// process run the healthCheck workflow end to end (workflow → activity → native engine); the server is
// restarted on the same file and the finished workflow is still there; search attributes are registered
// idempotently on every start; the worker shuts down cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import {
  DevServerExitedError,
  freePort,
  registerSearchAttributes,
  startDevServer,
} from '../../cli/dev-server';
import { SIRI_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { SHARED_TASK_QUEUE } from '../../workflows/constants';
import { engineInfo } from '../../native';
import { projectRoot, run, spawnWorker, startTestServer, tempDir, waitFor } from '../helpers/temporal';

test(
  'workflow with an activity runs end to end and survives a server restart',
  { timeout: 240_000 },
  async () => {
    const server = await startTestServer(undefined, { headless: false });
    const worker = spawnWorker(server.address);
    const workflowId = `foundation-health-${process.pid}`;
    try {
      // The Web UI answers on its port.
      await waitFor('the Web UI', async () => {
        try {
          return (await fetch(`${server.uiUrl}/`)).status === 200;
        } catch {
          return false;
        }
      });

      const connection = await Connection.connect({ address: server.address });
      const client = new Client({ connection });
      const report = await client.workflow.execute('healthCheck', {
        taskQueue: SHARED_TASK_QUEUE,
        workflowId,
      });
      await connection.close();
      // The activity ran in the worker process (not this one), on the real native engine.
      assert.equal(report.workflowOk, true);
      assert.equal(report.engine.torchVersion, engineInfo().torchVersion);
      assert.notEqual(report.engine.pid, process.pid);
      assert.equal(report.engine.pid, worker.child.pid);

      // Clean shutdown of the worker on SIGTERM.
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
      assert.match(worker.output(), /stopped cleanly/);
    } finally {
      worker.child.kill('SIGKILL');
      await server.stop();
    }

    // Re-open the same SQLite file: the finished workflow is listed, and registration finds nothing to add.
    const reopened = await startTestServer(server.dbFile);
    try {
      assert.deepEqual(await registerSearchAttributes(reopened.address), []);
      const list = await run(join(projectRoot, '.venv', 'bin', 'temporal'), [
        'workflow',
        'list',
        '--address',
        reopened.address,
        '--query',
        `WorkflowId = '${workflowId}'`,
        '--output',
        'json',
      ]);
      assert.equal(list.code, 0, list.stderr);
      const rows = JSON.parse(list.stdout) as { execution: { workflowId: string }; status: string }[];
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.execution.workflowId, workflowId);
      assert.match(String(rows[0]?.status), /COMPLETED/);

      const connection = await Connection.connect({ address: reopened.address });
      const attrs = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      await connection.close();
      for (const key of SIRI_SEARCH_ATTRIBUTES)
        assert.ok(key.name in (attrs.customAttributes ?? {}), key.name);
    } finally {
      await reopened.stop();
    }
  },
);

test('a dev server that exits during startup is retried, then reported with what it said', async () => {
  // An option the Temporal CLI rejects makes every launch exit at once: three attempts, then the error
  // names the address and quotes the server's own complaint.
  const port = await freePort();
  await assert.rejects(
    startDevServer({
      port,
      uiPort: await freePort(),
      dbFile: join(tempDir('bad-start'), 'temporal.db'),
      headless: true,
      logLevel: 'bogus' as never,
    }),
    (err: unknown) =>
      err instanceof DevServerExitedError &&
      err.message.includes(`exited during startup (address 127.0.0.1:${port})`) &&
      err.message.includes('"bogus" for "--log-level"'),
  );
});
