// The policy's forward, scoring and sampling: shapes and parameter count, causality, log-probs/entropies
// equal to log-softmax of the full logits, micro-batching invariance, greedy = argmax, seeded
// reproducibility, left padding, stop tokens, top-p, and samples following the model's distribution.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Policy } from '../../native';
import { argmax, assertClose, logSumExp, maxAbsDiff, randomIds, tinyConfig } from './helpers';

const V = 512;

describe('Policy forward and scoring', () => {
  let policy: Policy;
  before(async () => {
    policy = await Policy.init(tinyConfig(), { seed: 7, threads: 1 });
  });
  after(() => policy.dispose());

  test('init builds the configured Qwen2 and counts its parameters', async () => {
    const c = tinyConfig();
    const H = 64,
      I = 128,
      L = 2,
      hd = 16,
      q = 4 * hd,
      kv = 2 * hd;
    // embed + per layer (2 norms, q/k/v weights+biases, o, gate/up/down) + final norm (lm_head tied)
    const expected = V * H + L * (2 * H + (H * q + q) + 2 * (H * kv + kv) + q * H + 3 * H * I) + H;
    assert.equal(policy.numParameters(), expected);
    assert.equal(policy.config.vocab_size, c.vocab_size);
    assert.equal(policy.device, 'cpu');
    const untied = await Policy.init(tinyConfig({ tie_word_embeddings: false }), { seed: 1 });
    assert.equal(untied.numParameters(), expected + V * H);
    untied.dispose();
  });

  test('the forward is causal: a prefix gets the same logits alone as inside a longer sequence', async () => {
    const ids = randomIds(12, V, 1);
    const [full, prefix] = await policy.forwardLogits([ids, ids.slice(0, 5)]);
    assert.equal(full!.length, 12 * V);
    assert.ok(maxAbsDiff(full!.subarray(0, 5 * V), prefix!) < 1e-5);
    // and later tokens do change later logits
    assert.ok(maxAbsDiff(full!.subarray(5 * V, 6 * V), full!.subarray(6 * V, 7 * V)) > 1e-3);
  });

  test('logprobs and entropies equal log-softmax of the full logits (temperature 1 and 0.7)', async () => {
    const seqs = [randomIds(10, V, 2), randomIds(6, V, 3)];
    const masks = [
      [0, 0, 0, 1, 1, 1, 1, 0, 1, 1],
      [0, 1, 1, 1, 1, 1],
    ];
    const logits = await policy.forwardLogits(seqs);
    for (const temperature of [1, 0.7]) {
      const { logprobs, entropies } = await policy.logprobs(seqs, masks, { temperature });
      seqs.forEach((seq, i) => {
        assert.equal(logprobs[i]!.length, seq.length);
        for (let t = 0; t < seq.length; t++) {
          if (!masks[i]![t]) {
            assert.equal(logprobs[i]![t], 0);
            assert.equal(entropies[i]![t], 0);
            continue;
          }
          const row = Array.from(logits[i]!.subarray((t - 1) * V, t * V), (z) => z / temperature);
          const lse = logSumExp(row);
          // log p(y) = z_y - lse;  H = -sum p log p
          assertClose(logprobs[i]![t]!, row[seq[t]!]! - lse, 1e-5, `logprob [${i}][${t}] T=${temperature}`);
          const entropy = -row.reduce((acc, z) => acc + Math.exp(z - lse) * (z - lse), 0);
          assertClose(entropies[i]![t]!, entropy, 1e-5, `entropy [${i}][${t}] T=${temperature}`);
        }
      });
    }
  });

  test('logprobs do not depend on how sequences are grouped into micro-batches', async () => {
    const seqs = [randomIds(20, V, 4), randomIds(7, V, 5), randomIds(13, V, 6)];
    const masks = seqs.map((s) => s.map((_, t) => (t >= 3 ? 1 : 0)));
    const one = await policy.logprobs(seqs, masks, { microBatchTokens: 1 << 20 });
    const many = await policy.logprobs(seqs, masks, { microBatchTokens: 1 });
    seqs.forEach((_, i) => assert.ok(maxAbsDiff(one.logprobs[i]!, many.logprobs[i]!) < 1e-5));
  });

  test('greedy generation picks the argmax of the full forward at every step', async () => {
    const prompt = randomIds(6, V, 8);
    const [greedy] = await policy.generate([prompt], {
      samplesPerPrompt: 1,
      maxNewTokens: 10,
      temperature: 0,
    });
    assert.equal(greedy!.length, 10);
    assert.equal(greedy!.finishReason, 'length');
    const seq = [...prompt, ...greedy!.tokenIds];
    const [logits] = await policy.forwardLogits([seq]);
    for (let k = 0; k < 10; k++) {
      const t = prompt.length + k;
      assert.equal(seq[t], argmax(logits!.subarray((t - 1) * V, t * V)), `token ${k}`);
    }
    assert.ok(greedy!.samplingLogprobs.every((v) => v === 0));
  });

  test('generated log-probs match a re-scoring of the same sequences', async () => {
    const prompts = [randomIds(5, V, 9), randomIds(9, V, 10)];
    for (const temperature of [1, 0.6]) {
      const samples = await policy.generate(prompts, {
        samplesPerPrompt: 2,
        maxNewTokens: 8,
        temperature,
        seed: 3,
      });
      const seqs = samples.map((s) => [...prompts[s.promptIndex]!, ...s.tokenIds]);
      const masks = samples.map((s) => [...prompts[s.promptIndex]!.map(() => 0), ...s.tokenIds.map(() => 1)]);
      const t1 = await policy.logprobs(seqs, masks);
      const tT = await policy.logprobs(seqs, masks, { temperature });
      samples.forEach((s, i) => {
        const p = prompts[s.promptIndex]!.length;
        assert.ok(maxAbsDiff(s.logprobs, t1.logprobs[i]!.subarray(p)) < 1e-4, 'policy log-probs (T=1)');
        assert.ok(
          maxAbsDiff(s.samplingLogprobs, tT.logprobs[i]!.subarray(p)) < 1e-4,
          'sampling log-probs (T)',
        );
      });
    }
  });

  test('same seed gives identical samples; another seed gives different ones; order is prompt-major', async () => {
    const prompts = [randomIds(4, V, 11), randomIds(7, V, 12)];
    const opts = { samplesPerPrompt: 3, maxNewTokens: 12, temperature: 1, topP: 0.95, seed: 42 };
    const a = await policy.generate(prompts, opts);
    const b = await policy.generate(prompts, opts);
    const c = await policy.generate(prompts, { ...opts, seed: 43 });
    assert.deepEqual(
      a.map((s) => s.tokenIds),
      b.map((s) => s.tokenIds),
    );
    assert.notDeepEqual(
      a.map((s) => s.tokenIds),
      c.map((s) => s.tokenIds),
    );
    assert.deepEqual(
      a.map((s) => [s.promptIndex, s.sampleIndex]),
      [
        [0, 0],
        [0, 1],
        [0, 2],
        [1, 0],
        [1, 1],
        [1, 2],
      ],
    );
    // samples of one prompt differ from each other
    assert.notDeepEqual(a[0]!.tokenIds, a[1]!.tokenIds);
  });

  test('a short prompt batched with a longer one (left padding) generates what it generates alone', async () => {
    const short = randomIds(3, V, 13);
    const long = randomIds(11, V, 14);
    const opts = { samplesPerPrompt: 1, maxNewTokens: 8, temperature: 0 };
    const [alone] = await policy.generate([short], opts);
    const [batched] = await policy.generate([long, short], opts).then((r) => [r[1]]);
    assert.deepEqual(batched!.tokenIds, alone!.tokenIds);
    assert.ok(maxAbsDiff(batched!.logprobs, alone!.logprobs) < 1e-4);
  });

  test('a stop token ends a sample (included) while the others run on', async () => {
    const prompt = randomIds(5, V, 15);
    const [free] = await policy.generate([prompt], { samplesPerPrompt: 1, maxNewTokens: 10, temperature: 0 });
    const stop = free!.tokenIds[3]!;
    const firstStop = free!.tokenIds.indexOf(stop);
    const [stopped] = await policy.generate([prompt], {
      samplesPerPrompt: 1,
      maxNewTokens: 10,
      temperature: 0,
      stopTokenIds: [stop],
    });
    assert.equal(stopped!.finishReason, 'stop');
    assert.deepEqual(stopped!.tokenIds, free!.tokenIds.slice(0, firstStop + 1));
    // In a batch, finished rows are dropped and the rest continue unchanged.
    const other = randomIds(5, V, 16);
    const [otherAlone] = await policy.generate([other], {
      samplesPerPrompt: 1,
      maxNewTokens: 10,
      temperature: 0,
    });
    const both = await policy.generate([prompt, other], {
      samplesPerPrompt: 1,
      maxNewTokens: 10,
      temperature: 0,
      stopTokenIds: [stop],
    });
    assert.deepEqual(both[0]!.tokenIds, stopped!.tokenIds);
    if (!otherAlone!.tokenIds.includes(stop)) assert.deepEqual(both[1]!.tokenIds, otherAlone!.tokenIds);
  });

  test('top-p keeps only the nucleus: a tiny topP is greedy', async () => {
    const prompt = randomIds(6, V, 17);
    const [greedy] = await policy.generate([prompt], {
      samplesPerPrompt: 1,
      maxNewTokens: 6,
      temperature: 0,
    });
    const nucleus = await policy.generate([prompt], {
      samplesPerPrompt: 3,
      maxNewTokens: 6,
      temperature: 1,
      topP: 1e-6,
      seed: 5,
    });
    for (const s of nucleus) {
      assert.deepEqual(s.tokenIds, greedy!.tokenIds);
      assert.ok(s.samplingLogprobs.every((v) => Math.abs(v) < 1e-6)); // the renormalised nucleus has mass 1
    }
  });

  test('sampled tokens follow softmax(logits / T)', async () => {
    const prompt = randomIds(5, V, 18);
    const T = 0.5;
    const n = 4000;
    const samples = await policy.generate([prompt], {
      samplesPerPrompt: n,
      maxNewTokens: 1,
      temperature: T,
      seed: 9,
    });
    const [logits] = await policy.forwardLogits([prompt]);
    const row = Array.from(logits!.subarray((prompt.length - 1) * V), (z) => z / T);
    const lse = logSumExp(row);
    const counts = new Map<number, number>();
    for (const s of samples) counts.set(s.tokenIds[0]!, (counts.get(s.tokenIds[0]!) ?? 0) + 1);
    const top = row
      .map((z, id) => ({ id, p: Math.exp(z - lse) }))
      .sort((x, y) => y.p - x.p)
      .slice(0, 5);
    for (const { id, p } of top) {
      const freq = (counts.get(id) ?? 0) / n;
      const sigma = Math.sqrt((p * (1 - p)) / n);
      assert.ok(Math.abs(freq - p) < 5 * sigma + 1e-3, `token ${id}: frequency ${freq} vs probability ${p}`);
    }
  });

  test('progress callbacks arrive during generation', async () => {
    const events: string[] = [];
    await policy.generate([randomIds(4, V, 19)], {
      samplesPerPrompt: 2,
      maxNewTokens: 5,
      temperature: 1,
      seed: 1,
      onProgress: (e) => events.push(`${e.phase}:${e.current}/${e.total}`),
    });
    assert.deepEqual(events, [
      'prefill:0/5',
      'decode:1/5',
      'decode:2/5',
      'decode:3/5',
      'decode:4/5',
      'decode:5/5',
    ]);
  });

  test('maxBatch and kvCacheBytes split the work by whole prompts without changing the result', async () => {
    const prompts = [randomIds(4, V, 20), randomIds(9, V, 21), randomIds(6, V, 22)];
    const opts = { samplesPerPrompt: 2, maxNewTokens: 6, temperature: 0 };
    const all = await policy.generate(prompts, opts);
    const split = await policy.generate(prompts, { ...opts, maxBatch: 2 });
    assert.deepEqual(
      split.map((s) => s.tokenIds),
      all.map((s) => s.tokenIds),
    );
    // a KV-cache budget below one prompt's samples also runs the prompts one group at a time
    const budget = await policy.generate(prompts, { ...opts, kvCacheBytes: 1 });
    assert.deepEqual(
      budget.map((s) => s.tokenIds),
      all.map((s) => s.tokenIds),
    );
  });

  test('long calls run off the JS thread, and concurrent calls on one policy are serialised', async () => {
    const big = await Policy.init(
      tinyConfig({ hidden_size: 256, intermediate_size: 1024, num_hidden_layers: 4 }),
      {
        seed: 1,
      },
    );
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    const started = Date.now();
    const [samples, scores] = await Promise.all([
      big.generate([randomIds(16, V, 23)], {
        samplesPerPrompt: 16,
        maxNewTokens: 48,
        temperature: 1,
        seed: 1,
      }),
      big.logprobs([randomIds(64, V, 24)], [Array.from({ length: 64 }, (_, t) => (t > 0 ? 1 : 0))]),
    ]);
    clearInterval(timer);
    const elapsed = Date.now() - started;
    assert.equal(samples.length, 16);
    assert.equal(scores.logprobs[0]!.length, 64);
    // The event loop kept running while the engine worked (a blocked loop would tick at most once).
    assert.ok(ticks >= Math.min(5, elapsed / 4), `${ticks} timer ticks in ${elapsed} ms`);
    big.dispose();
  });

  test('bfloat16 compute: the same model within bf16 precision, and it trains', async () => {
    const fast = await Policy.init(tinyConfig(), { seed: 7, threads: 1, computeDtype: 'bfloat16' });
    assert.equal(fast.computeDtype, 'bfloat16');
    assert.equal(policy.computeDtype, 'float32');
    const seqs = [randomIds(12, V, 30)];
    const [exact] = await policy.forwardLogits(seqs);
    const [approx] = await fast.forwardLogits(seqs);
    const scale = Math.max(...Array.from(exact!, Math.abs));
    const diff = maxAbsDiff(exact!, approx!);
    assert.ok(diff > 0, 'bf16 GEMMs change the numbers');
    assert.ok(diff < 0.05 * scale, `bf16 logits differ by ${diff} (scale ${scale})`);
    const mask = [seqs[0]!.map((_, t) => (t >= 4 ? 1 : 0))];
    const sft = { loss: 'sft' as const, lossAggregation: 'token-mean' as const, lr: 1e-2, weightDecay: 0 };
    const first = await fast.trainStep({ sequences: seqs, responseMask: mask }, sft);
    let last = first.loss;
    for (let k = 0; k < 4; k++)
      last = (await fast.trainStep({ sequences: seqs, responseMask: mask }, sft)).loss;
    assert.ok(last < first.loss - 0.5, `bf16 SFT loss ${first.loss} -> ${last}`);
    const samples = await fast.generate([seqs[0]!.slice(0, 4)], {
      samplesPerPrompt: 2,
      maxNewTokens: 5,
      temperature: 1,
      seed: 1,
    });
    assert.equal(samples.length, 2);
    await assert.rejects(
      Policy.init(tinyConfig(), { seed: 1, computeDtype: 'float16' as 'float32' }),
      /computeDtype must be float32 or bfloat16/,
    );
    fast.dispose();
  });
});
