// The worker's held policy (training/policy-host.ts): the run config's computeDtype reaches the engine,
// the same checkpoint and dtype reuse the loaded policy, and another dtype reloads it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { policyAt, releasePolicy } from '../../training/policy-host';
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
