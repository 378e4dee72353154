// The worker's held policy (training/policy-host.ts): the run config's computeDtype reaches the engine,
// the same checkpoint and dtype reuse the loaded policy, and another dtype reloads it; the policy lock
// serialises its users and lets a waiting activity heartbeat.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { policyAt, releasePolicy, withPolicyLock } from '../../training/policy-host';
import { projectRoot } from '../native/helpers';

const toyBase = join(projectRoot, 'toy', 'base');
const ref = { path: toyBase, sha256: 'toy-base-test', bytes: 0, step: 0 };

after(() => releasePolicy());

test('policyAt loads with the run config computeDtype and reloads when it changes', async () => {
  const bf16 = await policyAt('policy-host-test', ref, 'cpu', {
    plainModelDir: true,
    computeDtype: 'bfloat16',
  });
  assert.equal(bf16.computeDtype, 'bfloat16');
  const again = await policyAt('policy-host-test', ref, 'cpu', {
    plainModelDir: true,
    computeDtype: 'bfloat16',
  });
  assert.equal(again, bf16, 'same checkpoint and dtype: the held policy');
  const fp32 = await policyAt('policy-host-test', ref, 'cpu', { plainModelDir: true });
  assert.notEqual(fp32, bf16);
  assert.equal(fp32.computeDtype, 'float32');
});

test('withPolicyLock: one holder at a time, and a waiter hears whileWaiting until its turn', async () => {
  const order: string[] = [];
  let release: () => void = () => undefined;
  const holding = withPolicyLock(
    () =>
      new Promise<void>((resolve) => {
        order.push('first starts');
        release = () => {
          order.push('first ends');
          resolve();
        };
      }),
  );
  let ticks = 0;
  const waiting = withPolicyLock(
    async () => {
      order.push(`second starts after ${ticks > 0 ? 'ticks' : 'no tick'}`);
      return 'done';
    },
    () => ticks++,
    20,
  );
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.ok(ticks >= 3, `expected the waiter to be called while it waits, got ${ticks} ticks`);
  release();
  assert.equal(await waiting, 'done');
  await holding;
  const ticksAtStart = ticks;
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(ticks, ticksAtStart, 'no ticks once the work started');
  assert.deepEqual(order, ['first starts', 'first ends', 'second starts after ticks']);
});
