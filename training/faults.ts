// Fault injection for the durability tests: with SIRI_FAULT=kill:<point>:<step> in a worker's
// environment, that worker SIGKILLs itself when it reaches <point> of training step <step> — a real
// crash of the real process at a chosen moment, so tests can check that the run survives it.
// Points: rollout (mid-generation), update (mid-trainStep), checkpoint (mid-save: temp directory
// written, not yet renamed). Unset in normal use; nothing here runs then.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';

export type FaultPoint = 'rollout' | 'update' | 'checkpoint';

function armed(point: FaultPoint, step: number): boolean {
  const spec = process.env.SIRI_FAULT;
  if (!spec) return false;
  const [kind, at, atStep] = spec.split(':');
  return kind === 'kill' && at === point && Number(atStep) === step;
}

function die(point: FaultPoint, step: number): void {
  process.stderr.write(`siri fault injection: SIGKILL at ${point} of step ${step}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Kills this process if the fault for (point, step) is armed. */
export function maybeCrash(point: FaultPoint, step: number): void {
  if (armed(point, step)) die(point, step);
}

/** For `checkpoint`: kills this process once a temp directory of `finalDir` holds a file. */
export function crashDuringSave(finalDir: string, step: number): void {
  if (!armed('checkpoint', step)) return;
  const parent = dirname(finalDir);
  const prefix = `.${basename(finalDir)}.tmp-`;
  const timer = setInterval(() => {
    if (!existsSync(parent)) return;
    const tmp = readdirSync(parent).find((e) => e.startsWith(prefix));
    if (tmp && readdirSync(`${parent}/${tmp}`).length > 0) {
      clearInterval(timer);
      die('checkpoint', step);
    }
  }, 1);
}
