// Bad input never crashes the process: wrong shapes, ids >= vocab, masks of the wrong length, configs that
// do not match the weights, missing tensors, bad options, a disposed policy, a throwing progress callback —
// each is an Error that says which input and why, and the engine keeps working afterwards.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Policy, engineInfo } from '../../native';
import { randomIds, tempDir, tinyConfig } from './helpers';

const V = 512;

async function hfCopy(
  src: string,
  dst: string,
  edit: (config: Record<string, unknown>) => void,
): Promise<void> {
  const { mkdir } = await import('node:fs/promises');
  await mkdir(dst, { recursive: true });
  await copyFile(join(src, 'model.safetensors'), join(dst, 'model.safetensors'));
  const config = JSON.parse(await readFile(join(src, 'config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(join(dst, 'config.json'), JSON.stringify(config));
}

describe('bad input', () => {
  test('token ids, shapes and masks are checked with the index of the culprit', async () => {
    const policy = await Policy.init(tinyConfig(), { seed: 1 });
    const seqs = [randomIds(6, V, 1), randomIds(4, V, 2)];
    const mask = [
      [0, 0, 1, 1, 1, 1],
      [0, 1, 1, 1],
    ];
    await assert.rejects(
      policy.logprobs([seqs[0]!, [1, 2, 512, 3]], mask),
      /sequences\[1\]\[2\] = 512 is not a token id \(vocab_size 512\)/,
    );
    await assert.rejects(
      policy.logprobs([seqs[0]!, [1, -1, 2, 3]], mask),
      /sequences\[1\]\[1\] = -1 is not a token id/,
    );
    await assert.rejects(
      policy.logprobs([seqs[0]!, [1, 2.5, 2, 3]], mask),
      /sequences\[1\]\[1\] = 2.5 is not a token id/,
    );
    await assert.rejects(
      policy.logprobs(seqs, [mask[0]!, [0, 1, 1]]),
      /responseMask\[1\] has 3 entries but sequence 1 has 4 tokens/,
    );
    await assert.rejects(
      policy.logprobs(seqs, [mask[0]!]),
      /responseMask must have one entry per sequence \(2\), got 1/,
    );
    await assert.rejects(
      policy.logprobs(seqs, [mask[0]!, [0, 2, 1, 1]]),
      /responseMask\[1\]\[1\] = 2 must be 0 or 1/,
    );
    await assert.rejects(
      policy.logprobs(seqs, [mask[0]!, [1, 1, 1, 1]]),
      /responseMask\[1\]\[0\] is 1, but the first token has no log-prob/,
    );
    await assert.rejects(policy.logprobs([seqs[0]!, []], mask), /sequences\[1\] is empty/);
    await assert.rejects(
      policy.logprobs('nope' as unknown as number[][], mask),
      /sequences must be an array of token-id arrays/,
    );
    await assert.rejects(policy.forwardLogits([[V + 5]]), /ids\[0\]\[0\] = 517 is not a token id/);
    await assert.rejects(
      policy.generate([[1, 2]], { samplesPerPrompt: 0, maxNewTokens: 3, temperature: 1 }),
      /samplesPerPrompt must be an integer >= 1, got 0/,
    );
    await assert.rejects(
      policy.generate([[1, 2]], { samplesPerPrompt: 1, maxNewTokens: 3, temperature: 1, topP: 0 }),
      /topP must be in \(0, 1\]/,
    );
    await assert.rejects(
      policy.generate([[1, 2]], { samplesPerPrompt: 1, maxNewTokens: 3, temperature: -1 }),
      /temperature must be >= 0/,
    );
    await assert.rejects(
      policy.generate([[1, 2]], {
        samplesPerPrompt: 1,
        maxNewTokens: 3,
        temperature: 1,
        stopTokenIds: [9999],
      }),
      /stopTokenIds contains 9999, not a token id/,
    );
    await assert.rejects(policy.logprobs(seqs, mask, { temperature: 0 }), /temperature must be > 0/);
    // and the policy still works
    const { logprobs } = await policy.logprobs(seqs, mask);
    assert.equal(logprobs.length, 2);
    policy.dispose();
  });

  test('configs that do not match the weights, and missing tensors, are named', async () => {
    const dir = tempDir('mismatch');
    const policy = await Policy.init(tinyConfig(), { seed: 2 });
    const src = join(dir, 'src');
    await policy.save(src);
    policy.dispose();

    await hfCopy(src, join(dir, 'hidden'), (c) => (c.hidden_size = 32));
    await assert.rejects(
      Policy.load(join(dir, 'hidden')),
      /model\.safetensors: tensor 'model\.embed_tokens\.weight' has shape \[512, 64\] but config\.json implies \[512, 32\]/,
    );
    await hfCopy(src, join(dir, 'layers'), (c) => (c.num_hidden_layers = 1));
    await assert.rejects(
      Policy.load(join(dir, 'layers')),
      /weights contain 'model\.layers\.1\..*' but config\.json has num_hidden_layers=1/,
    );
    await hfCopy(src, join(dir, 'untied'), (c) => (c.tie_word_embeddings = false));
    await assert.rejects(Policy.load(join(dir, 'untied')), /missing tensor 'lm_head\.weight'/);
    await hfCopy(src, join(dir, 'more-layers'), (c) => (c.num_hidden_layers = 3));
    await assert.rejects(
      Policy.load(join(dir, 'more-layers')),
      /missing tensor 'model\.layers\.2\.input_layernorm\.weight'/,
    );
    await hfCopy(src, join(dir, 'llama'), (c) => (c.model_type = 'llama'));
    await assert.rejects(
      Policy.load(join(dir, 'llama')),
      /model_type 'llama' is not supported \(only qwen2\)/,
    );
    await hfCopy(src, join(dir, 'gqa'), (c) => (c.num_key_value_heads = 3));
    await assert.rejects(
      Policy.load(join(dir, 'gqa')),
      /num_attention_heads 4 is not a multiple of num_key_value_heads 3/,
    );
    await writeFile(join(dir, 'gqa', 'config.json'), '{"vocab_size": 512,');
    await assert.rejects(Policy.load(join(dir, 'gqa')), /config\.json: invalid JSON at byte \d+/);
    await hfCopy(src, join(dir, 'garbage'), () => {});
    await writeFile(
      join(dir, 'garbage', 'model.safetensors'),
      Buffer.from('this is not a safetensors file at all'),
    );
    await assert.rejects(
      Policy.load(join(dir, 'garbage')),
      /model\.safetensors: header length \d+ does not fit the file/,
    );
    await assert.rejects(
      Policy.init(tinyConfig({ hidden_size: 0 }), { seed: 1 }),
      /"hidden_size" must be > 0/,
    );
    await assert.rejects(
      Policy.init(tinyConfig({ hidden_act: 'gelu' }), { seed: 1 }),
      /hidden_act 'gelu' is not supported/,
    );
    await assert.rejects(
      Policy.init(tinyConfig(), { seed: 1, dtype: 'int8' as 'float32' }),
      /dtype must be float32, bfloat16 or float16/,
    );
    if (!engineInfo().cudaAvailable) {
      await assert.rejects(
        Policy.init(tinyConfig(), { seed: 1, device: 'cuda' }),
        /device 'cuda' requested but libtorch sees no CUDA device/,
      );
    }
  });

  test('a disposed policy and a throwing progress callback give Errors, not crashes', async () => {
    const policy = await Policy.init(tinyConfig(), { seed: 3 });
    await assert.rejects(
      policy.generate([[1, 2, 3]], {
        samplesPerPrompt: 1,
        maxNewTokens: 20,
        temperature: 1,
        seed: 1,
        onProgress: () => {
          throw new Error('progress sink broke');
        },
      }),
      /stopped because onProgress threw: progress sink broke/,
    );
    const ok = await policy.generate([[1, 2, 3]], { samplesPerPrompt: 1, maxNewTokens: 2, temperature: 0 });
    assert.equal(ok[0]!.length, 2);
    policy.dispose();
    await assert.rejects(policy.logprobs([[1, 2]], [[0, 1]]), /policy was disposed/);
    assert.throws(() => policy.numParameters(), /policy was disposed/);
  });
});
