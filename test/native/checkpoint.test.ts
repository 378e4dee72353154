// Checkpoints: save -> load is bit-exact (weights, optimizer state, RNG state, step), the directory is
// replaced atomically with a sha256 manifest, corrupt/partial checkpoints are refused naming the file,
// sharded and bf16 weights round-trip, and transformers loads what we write with identical logits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Policy } from '../../native';
import { MANIFEST_FILE, type Manifest, sha256File } from '../../native/checkpoint';
import { maxAbsDiff, randomIds, runPython, tempDir, tinyConfig } from './helpers';

const V = 512;
const batch = {
  sequences: [randomIds(10, V, 1), randomIds(7, V, 2)],
  responseMask: [
    [0, 0, 0, 1, 1, 1, 1, 1, 1, 1],
    [0, 0, 1, 1, 1, 1, 1],
  ],
  advantages: [1, -1],
};
const trainOptions = {
  loss: 'grpo' as const,
  lossAggregation: 'token-mean' as const,
  lr: 1e-3,
  weightDecay: 0.01,
};

describe('checkpoints', () => {
  test('save -> load is bit-exact: logits, optimizer state, RNG state and step', async () => {
    const dir = tempDir('ckpt');
    const a = await Policy.init(tinyConfig(), { seed: 11, threads: 1 });
    await a.trainStep(batch, trainOptions);
    await a.save(join(dir, 'ck'));
    const b = await Policy.load(join(dir, 'ck'), { threads: 1 });
    assert.equal(b.step, 1);
    assert.ok(b.hasOptimizerState());
    assert.deepEqual(await b.forwardLogits(batch.sequences), await a.forwardLogits(batch.sequences));
    // Same optimizer moments => the next step is identical.
    const ra = await a.trainStep(batch, trainOptions);
    const rb = await b.trainStep(batch, trainOptions);
    assert.deepEqual(rb, ra);
    assert.deepEqual(await b.forwardLogits(batch.sequences), await a.forwardLogits(batch.sequences));
    // Same RNG state => unseeded generation continues identically.
    await a.save(join(dir, 'ck2'));
    const c = await Policy.load(join(dir, 'ck2'), { threads: 1 });
    const opts = { samplesPerPrompt: 2, maxNewTokens: 6, temperature: 1 };
    const ga = await a.generate([batch.sequences[0]!], opts);
    const gc = await c.generate([batch.sequences[0]!], opts);
    assert.deepEqual(
      gc.map((s) => s.tokenIds),
      ga.map((s) => s.tokenIds),
    );
    // Saving the loaded policy again writes byte-identical weights.
    await c.save(join(dir, 'ck3'));
    const m2 = JSON.parse(await readFile(join(dir, 'ck2', MANIFEST_FILE), 'utf8')) as Manifest;
    const m3 = JSON.parse(await readFile(join(dir, 'ck3', MANIFEST_FILE), 'utf8')) as Manifest;
    assert.equal(m3.files['model.safetensors']!.sha256, m2.files['model.safetensors']!.sha256);
    assert.equal(m3.files['optimizer.safetensors']!.sha256, m2.files['optimizer.safetensors']!.sha256);
    for (const p of [a, b, c]) p.dispose();
  });

  test('the manifest lists every file with its sha256; a re-save replaces the directory with no leftovers', async () => {
    const dir = tempDir('manifest');
    const policy = await Policy.init(tinyConfig(), { seed: 12 });
    const target = join(dir, 'latest');
    await policy.save(target, { optimizer: false });
    await policy.trainStep(batch, trainOptions);
    await policy.save(target);
    const manifest = JSON.parse(await readFile(join(target, MANIFEST_FILE), 'utf8')) as Manifest;
    assert.equal(manifest.step, 1);
    const files = (await readdir(target)).filter((f) => f !== MANIFEST_FILE).sort();
    assert.deepEqual(Object.keys(manifest.files).sort(), files);
    assert.deepEqual(files, ['config.json', 'model.safetensors', 'optimizer.safetensors', 'siri_state.json']);
    for (const f of files) assert.equal(manifest.files[f]!.sha256, await sha256File(join(target, f)));
    assert.deepEqual(await readdir(dir), ['latest']);
    policy.dispose();
  });

  test('load refuses a corrupt, incomplete or partial checkpoint and names the file', async () => {
    const dir = tempDir('corrupt');
    const policy = await Policy.init(tinyConfig(), { seed: 13 });
    await policy.trainStep(batch, trainOptions);
    const good = join(dir, 'good');
    await policy.save(good);

    const flipped = join(dir, 'flipped');
    await policy.save(flipped);
    const weights = await readFile(join(flipped, 'model.safetensors'));
    weights.writeUInt8(weights.readUInt8(weights.length - 3) ^ 0x40, weights.length - 3);
    await writeFile(join(flipped, 'model.safetensors'), weights);
    await assert.rejects(
      Policy.load(flipped),
      /checkpoint .*flipped is corrupt: model\.safetensors has sha256 [0-9a-f]{64}, manifest\.json says/,
    );

    const missing = join(dir, 'missing');
    await policy.save(missing);
    await rm(join(missing, 'optimizer.safetensors'));
    await assert.rejects(
      Policy.load(missing),
      /incomplete: optimizer\.safetensors is listed in manifest\.json but missing/,
    );

    const partial = join(dir, 'partial');
    await policy.save(partial);
    await rm(join(partial, MANIFEST_FILE));
    await assert.rejects(
      Policy.load(partial),
      /incomplete: siri_state\.json is there but manifest\.json is missing/,
    );

    const truncated = join(dir, 'truncated');
    await policy.save(truncated);
    await rm(join(truncated, MANIFEST_FILE));
    await rm(join(truncated, 'siri_state.json'));
    await writeFile(join(truncated, 'model.safetensors'), weights.subarray(0, weights.length - 100));
    await assert.rejects(
      Policy.load(truncated),
      /model\.safetensors: tensor '.*' byte range .* lies outside the file's \d+ data bytes/,
    );

    await assert.rejects(Policy.load(join(dir, 'nowhere')), /checkpoint .*nowhere does not exist/);
    const ok = await Policy.load(good);
    assert.equal(ok.step, 1);
    ok.dispose();
    policy.dispose();
  });

  test('bf16 storage and sharded weights round-trip exactly', async () => {
    const dir = tempDir('bf16');
    const policy = await Policy.init(tinyConfig({ tie_word_embeddings: false }), {
      seed: 14,
      dtype: 'bfloat16',
    });
    const before = await policy.forwardLogits(batch.sequences);
    await policy.save(join(dir, 'sharded'), { maxShardBytes: 100_000 });
    const files = (await readdir(join(dir, 'sharded'))).sort();
    assert.ok(files.includes('model.safetensors.index.json'));
    assert.ok(
      files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length >= 3,
      files.join(','),
    );
    const config = JSON.parse(await readFile(join(dir, 'sharded', 'config.json'), 'utf8')) as {
      dtype: string;
    };
    assert.equal(config.dtype, 'bfloat16');
    const loaded = await Policy.load(join(dir, 'sharded'));
    assert.deepEqual(await loaded.forwardLogits(batch.sequences), before);
    policy.dispose();
    loaded.dispose();
  });

  test('transformers loads what we write (tied fp32, untied bf16, sharded) with the same logits', async () => {
    const dir = tempDir('hf');
    const cases = [
      { name: 'tied', tied: true, dtype: 'float32' as const, shard: undefined },
      { name: 'untied-bf16', tied: false, dtype: 'bfloat16' as const, shard: 100_000 },
    ];
    const ours: number[][] = [];
    for (const [k, c] of cases.entries()) {
      const policy = await Policy.init(tinyConfig({ tie_word_embeddings: c.tied }), {
        seed: 30 + k,
        dtype: c.dtype,
      });
      await policy.trainStep(batch, trainOptions);
      // the trained fp32 weights are rounded to the storage dtype on save; score what was written
      await policy.save(join(dir, c.name), c.shard ? { maxShardBytes: c.shard } : {});
      const reloaded = await Policy.load(join(dir, c.name));
      ours.push(Array.from((await reloaded.forwardLogits([batch.sequences[0]!]))[0]!));
      policy.dispose();
      reloaded.dispose();
    }
    const script = `
import json, sys, torch
from transformers import AutoModelForCausalLM
out = []
for d in sys.argv[2:]:
    m = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32)
    with torch.no_grad():
        out.append(m(torch.tensor([json.loads(sys.argv[1])])).logits[0].flatten().tolist())
print(json.dumps(out))
`;
    const reference = JSON.parse(
      await runPython(script, [JSON.stringify(batch.sequences[0]), ...cases.map((c) => join(dir, c.name))]),
    ) as number[][];
    reference.forEach((ref, k) => {
      const scale = Math.max(...ref.map(Math.abs));
      assert.ok(maxAbsDiff(ours[k]!, ref) < 1e-5 * scale, `${cases[k]!.name}: logits differ`);
    });
  });

  test('tokenizer and generation files travel with the checkpoint', async () => {
    const dir = tempDir('companion');
    const src = join(dir, 'src');
    const policy = await Policy.init(tinyConfig(), { seed: 15 });
    await policy.save(src);
    await writeFile(join(src, 'tokenizer.json'), '{"fake": true}');
    await writeFile(join(src, 'generation_config.json'), '{"eos_token_id": 3}');
    // a policy loaded from src copies them into every checkpoint it writes
    // extra files next to a manifest are allowed (only the listed ones are verified)
    const loaded = await Policy.load(src);
    await loaded.save(join(dir, 'next'));
    assert.equal(await readFile(join(dir, 'next', 'tokenizer.json'), 'utf8'), '{"fake": true}');
    const manifest = JSON.parse(await readFile(join(dir, 'next', MANIFEST_FILE), 'utf8')) as Manifest;
    assert.ok(manifest.files['generation_config.json']);
    policy.dispose();
    loaded.dispose();
  });
});
