// Test helpers for real Temporal integration tests: a dev server on a free port with a temp SQLite file
// (our own `temporal` binary from .venv) and real `siri worker` processes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DevServerExitedError, freePort, startDevServer, type DevServerHandle } from '../../cli/dev-server';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const siriBin = join(projectRoot, 'bin', 'siri.mjs');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `siri-${prefix}-`));
}

export interface TestServer extends DevServerHandle {
  port: number;
  uiPort: number;
  dbFile: string;
}

/** Starts a real dev server; pass `dbFile` to re-open an existing SQLite store. */
export async function startTestServer(
  dbFile?: string,
  options: { headless?: boolean; lowLatency?: boolean } = {},
): Promise<TestServer> {
  const db = dbFile ?? join(tempDir('db'), 'temporal.db');
  // Free ports are picked before the launch, so a parallel test can take one in between: try fresh ones.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const uiPort = await freePort();
    try {
      const handle = await startDevServer({
        port,
        uiPort,
        dbFile: db,
        headless: options.headless ?? true,
        lowLatency: options.lowLatency ?? true,
      });
      return { ...handle, port, uiPort, dbFile: db };
    } catch (err) {
      const portRace = err instanceof DevServerExitedError || /already in use/.test(String(err));
      if (!portRace || attempt >= 3) throw err;
    }
  }
}

export interface SiriProcess {
  child: ChildProcess;
  /** stdout and stderr together, in arrival order. */
  output: () => string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export type WorkerProcess = SiriProcess;

/** Spawns `siri ARGS…` as a separate OS process, collecting its output. */
export function spawnSiri(args: string[], env: NodeJS.ProcessEnv = {}): SiriProcess {
  const child = spawn(process.execPath, [siriBin, ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Spawns `siri worker` as a separate OS process against `address`. */
export function spawnWorker(
  address: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
): WorkerProcess {
  return spawnSiri(['worker', '--address', address, ...extraArgs], env);
}

/** Waits until `predicate()` holds, polling; throws with `what` after the timeout. */
export async function waitFor(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Runs a command to completion and returns its exit code and output. */
export function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { cwd: projectRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** `siri train --config FILE --run-id ID --detach --address ADDRESS [extra]`; throws with its stderr on failure. */
export async function startTrainingRun(
  address: string,
  configPath: string,
  runId: string,
  extraArgs: string[] = [],
): Promise<void> {
  const args = [
    siriBin,
    'train',
    '--config',
    configPath,
    '--run-id',
    runId,
    '--detach',
    '--address',
    address,
  ];
  const started = await run(process.execPath, [...args, ...extraArgs]);
  if (started.code !== 0) throw new Error(`siri train exited with ${started.code}: ${started.stderr}`);
}
