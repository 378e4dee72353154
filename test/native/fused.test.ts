// The fused CPU kernels (RMSNorm, SwiGLU, q|k|v split + RoPE) agree with their plain ATen compositions in
// the forward pass and in every gradient, on random inputs with odd sizes (vector tails) and several seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fusedOpsSelfCheck } from '../../native';

test('fused kernels match the ATen compositions, forward and backward', () => {
  for (const seed of [0, 1, 2]) {
    const errors = fusedOpsSelfCheck(seed);
    const names = Object.keys(errors);
    // 2 rmsnorm sizes x (1 output + 2 grads), swiglu (1 + 1), qkv+rope (3 outputs + 1 grad), decode attention (2), softmax stats (3 + grad)
    assert.equal(names.length, 18, names.join(', '));
    for (const [name, err] of Object.entries(errors))
      assert.ok(err < 1e-5, `${name}: relative error ${err} (seed ${seed})`);
  }
});
