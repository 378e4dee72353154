// trainStep: the GRPO/DAPO loss value by hand for on-policy batches, clip fractions and approx KL for known
// ratios, exact equivalence of gradient accumulation across micro-batches for every aggregation mode, and the
// whole update (loss, gradient norm, weights after AdamW) against PyTorch autograd + torch.optim.AdamW on the
// same checkpoint loaded by transformers (with clipping, dual clip, KL, entropy bonus and a temperature).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Policy, type LossAggregation, type TrainBatch, type TrainStepOptions } from '../../native';
import { assertClose, maxAbsDiff, randomIds, runPython, tempDir, tinyConfig } from './helpers';

const V = 512;
const AGGREGATIONS: LossAggregation[] = ['token-mean', 'seq-mean-token-sum', 'seq-mean-token-mean'];

function makeBatch(): TrainBatch {
  const lengths = [14, 9, 11, 6];
  const prompts = [5, 3, 4, 2];
  const sequences = lengths.map((n, i) => randomIds(n, V, 100 + i));
  const responseMask = lengths.map((n, i) => Array.from({ length: n }, (_, t) => (t >= prompts[i]! ? 1 : 0)));
  return { sequences, responseMask, advantages: [1.5, -0.5, 0.75, -1.25] };
}

function responseCounts(batch: TrainBatch): number[] {
  return batch.responseMask.map((m) => m.reduce((a, b) => a + b, 0));
}

const baseOptions: TrainStepOptions = {
  loss: 'grpo',
  clipLow: 0.2,
  clipHigh: 0.28,
  lossAggregation: 'token-mean',
  lr: 1e-3,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0.01,
  gradClip: 1.0,
};

describe('trainStep', () => {
  test('on-policy GRPO loss equals -sum(A * weight) for each aggregation mode', async () => {
    const batch = makeBatch();
    const n = responseCounts(batch);
    const A = batch.advantages!;
    const N = n.reduce((a, b) => a + b, 0);
    const S = n.length;
    // ratio = 1 everywhere, so the token loss is -A:
    //   token-mean: -sum_i A_i n_i / N;  seq-mean-token-sum: -sum_i A_i n_i / S;  seq-mean-token-mean: -sum_i A_i / S
    const expected: Record<LossAggregation, number> = {
      'token-mean': -A.reduce((acc, a, i) => acc + a * n[i]!, 0) / N,
      'seq-mean-token-sum': -A.reduce((acc, a, i) => acc + a * n[i]!, 0) / S,
      'seq-mean-token-mean': -A.reduce((acc, a) => acc + a, 0) / S,
    };
    for (const mode of AGGREGATIONS) {
      const policy = await Policy.init(tinyConfig(), { seed: 3, threads: 1 });
      const r = await policy.trainStep(batch, { ...baseOptions, lossAggregation: mode });
      assertClose(r.loss, expected[mode], 1e-5, mode);
      assert.equal(r.tokens, N);
      assert.equal(r.clipFracLow, 0);
      assert.equal(r.clipFracHigh, 0);
      assert.ok(Math.abs(r.approxKl) < 1e-6);
      assert.equal(r.step, 1);
      assert.equal(policy.step, 1);
      policy.dispose();
    }
  });

  test('clip fractions and approx KL for a known ratio', async () => {
    const policy = await Policy.init(tinyConfig(), { seed: 4, threads: 1 });
    const batch = makeBatch();
    const { logprobs } = await policy.logprobs(batch.sequences, batch.responseMask);
    // old = logp - 1  =>  ratio = e on every token: clipped high where A > 0 (r > 1.28), never low (r < 0.8).
    const old = logprobs.map((row) => Array.from(row, (v) => v - 1));
    const n = responseCounts(batch);
    const positive = n.filter((_, i) => batch.advantages![i]! > 0).reduce((a, b) => a + b, 0);
    const r = await policy.trainStep({ ...batch, oldLogprobs: old }, baseOptions);
    const N = n.reduce((a, b) => a + b, 0);
    assertClose(r.clipFracHigh, positive / N, 1e-6, 'clipFracHigh');
    assert.equal(r.clipFracLow, 0);
    // k3(old || new) with log r = 1: (r - 1) - log r = e - 2
    assertClose(r.approxKl, Math.E - 2, 1e-4, 'approxKl');
    policy.dispose();
  });

  test('gradient accumulation over micro-batches equals one big batch, for every aggregation mode', async () => {
    const batch = makeBatch();
    for (const mode of AGGREGATIONS) {
      const whole = await Policy.init(tinyConfig(), { seed: 5, threads: 1 });
      const split = await Policy.init(tinyConfig(), { seed: 5, threads: 1 });
      const { logprobs } = await whole.logprobs(batch.sequences, batch.responseMask);
      const old = logprobs.map((row) => Array.from(row, (v, t) => v + (t % 2 ? 0.3 : -0.3)));
      const opts = { ...baseOptions, lossAggregation: mode, entropyCoef: 0.01 };
      const a = await whole.trainStep({ ...batch, oldLogprobs: old }, { ...opts, microBatchTokens: 1 << 20 });
      const b = await split.trainStep({ ...batch, oldLogprobs: old }, { ...opts, microBatchTokens: 1 });
      assert.equal(a.microBatches, 1);
      assert.equal(b.microBatches, 4);
      assertClose(b.loss, a.loss, 1e-5, `${mode} loss`);
      assertClose(b.gradNorm, a.gradNorm, 1e-5, `${mode} gradNorm`);
      assert.ok(a.clipFracHigh + a.clipFracLow > 0, 'clipping is active');
      const [la] = await whole.forwardLogits([batch.sequences[0]!]);
      const [lb] = await split.forwardLogits([batch.sequences[0]!]);
      assert.ok(maxAbsDiff(la!, lb!) < 1e-4, `${mode} weights after the step`);
      whole.dispose();
      split.dispose();
    }
  });

  test('activation checkpointing (layers recomputed in the backward) gives the same step', async () => {
    const batch = makeBatch();
    for (const loss of ['grpo', 'sft'] as const) {
      const kept = await Policy.init(tinyConfig(), { seed: 9, threads: 1 });
      const recomputed = await Policy.init(tinyConfig(), { seed: 9, threads: 1 });
      const opts = { ...baseOptions, loss, entropyCoef: loss === 'grpo' ? 0.01 : 0, microBatchTokens: 16 };
      const a = await kept.trainStep(batch, opts);
      const b = await recomputed.trainStep(batch, { ...opts, activationCheckpointing: true });
      assert.ok(a.microBatches > 1, 'several micro-batches');
      assertClose(b.loss, a.loss, 1e-6, `${loss} loss`);
      assertClose(b.gradNorm, a.gradNorm, 1e-5, `${loss} gradNorm`);
      assert.ok(a.gradNorm > 0, 'a real gradient');
      const [la] = await kept.forwardLogits([batch.sequences[0]!]);
      const [lb] = await recomputed.forwardLogits([batch.sequences[0]!]);
      assert.ok(maxAbsDiff(la!, lb!) < 1e-5, `${loss} weights after the step`);
      kept.dispose();
      recomputed.dispose();
    }
  });

  test('SFT loss is the mean negative log-likelihood of the masked tokens and goes down', async () => {
    const policy = await Policy.init(tinyConfig(), { seed: 6, threads: 1 });
    const batch = makeBatch();
    const { logprobs } = await policy.logprobs(batch.sequences, batch.responseMask);
    let sum = 0;
    let count = 0;
    logprobs.forEach((row, i) =>
      row.forEach((v, t) => {
        if (batch.responseMask[i]![t]) {
          sum -= v;
          count += 1;
        }
      }),
    );
    const sft: TrainStepOptions = { loss: 'sft', lossAggregation: 'token-mean', lr: 1e-2, weightDecay: 0 };
    const first = await policy.trainStep(
      { sequences: batch.sequences, responseMask: batch.responseMask },
      sft,
    );
    assertClose(first.loss, sum / count, 1e-5, 'SFT loss');
    let last = first.loss;
    for (let k = 0; k < 5; k++) last = (await policy.trainStep(batch, sft)).loss;
    assert.ok(last < first.loss - 0.5, `SFT loss ${first.loss} -> ${last}`);
    policy.dispose();
  });

  test('loss, gradient norm and the AdamW update match PyTorch autograd on the same checkpoint', async () => {
    const T = 0.8;
    const config = { clipLow: 0.2, clipHigh: 0.28, clipC: 3, klCoef: 0.05, entropyCoef: 0.01 };
    const batch = makeBatch();
    const dir = tempDir('train-ref');
    const cases: Array<{ mode: LossAggregation; tied: boolean }> = [
      { mode: 'token-mean', tied: true },
      { mode: 'seq-mean-token-sum', tied: false },
      { mode: 'seq-mean-token-mean', tied: true },
    ];
    const inputs: unknown[] = [];
    const ours: Array<{ loss: number; gradNorm: number; logits: number[] }> = [];
    for (const [k, c] of cases.entries()) {
      const policy = await Policy.init(tinyConfig({ tie_word_embeddings: c.tied }), {
        seed: 20 + k,
        threads: 1,
      });
      const ckpt = join(dir, `case${k}`);
      await policy.save(ckpt);
      const { logprobs } = await policy.logprobs(batch.sequences, batch.responseMask, { temperature: T });
      // Ratios e^{±0.5} put tokens in both clip regions; ref = logp + 0.2 makes the KL term non-zero.
      const old = logprobs.map((row) => Array.from(row, (v, t) => v + (t % 3 === 0 ? 0.5 : -0.5)));
      const ref = logprobs.map((row) => Array.from(row, (v) => v + 0.2));
      const r = await policy.trainStep(
        { ...batch, oldLogprobs: old, refLogprobs: ref },
        { ...baseOptions, ...config, temperature: T, lossAggregation: c.mode, microBatchTokens: 24 },
      );
      assert.ok(r.clipFracLow > 0 && r.clipFracHigh > 0, 'both clip regions active');
      const [logits] = await policy.forwardLogits([batch.sequences[0]!]);
      ours.push({ loss: r.loss, gradNorm: r.gradNorm, logits: Array.from(logits!) });
      inputs.push({ dir: ckpt, mode: c.mode, old, ref });
      policy.dispose();
    }
    const script = `
import json, sys, torch
from transformers import AutoModelForCausalLM
torch.set_num_threads(1)
spec = json.loads(open(sys.argv[1]).read())
out = []
for case in spec['cases']:
    m = AutoModelForCausalLM.from_pretrained(case['dir'], dtype=torch.float32)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    c = spec['config']; T = spec['T']
    per_seq = []
    for i, seq in enumerate(spec['sequences']):
        ids = torch.tensor([seq])
        logits = m(ids).logits[0, :-1] / T
        logp_all = torch.log_softmax(logits, -1)
        logp = logp_all.gather(1, ids[0, 1:, None])[:, 0]
        ent = -(logp_all.exp() * logp_all).sum(-1)
        mask = torch.tensor(spec['mask'][i][1:], dtype=torch.bool)
        old = torch.tensor(case['old'][i][1:]); ref = torch.tensor(case['ref'][i][1:])
        A = spec['adv'][i]
        r = torch.exp(logp - old)
        pg = torch.maximum(-A * r, -A * torch.clamp(r, 1 - c['clipLow'], 1 + c['clipHigh']))
        if A < 0:
            pg = torch.minimum(pg, torch.full_like(pg, -A * c['clipC']))
        k3 = torch.exp(ref - logp) - (ref - logp) - 1
        tok = pg + c['klCoef'] * k3 - c['entropyCoef'] * ent
        per_seq.append(tok[mask])
    S = len(per_seq)
    if case['mode'] == 'token-mean':
        loss = torch.cat(per_seq).sum() / sum(t.numel() for t in per_seq)
    elif case['mode'] == 'seq-mean-token-sum':
        loss = sum(t.sum() for t in per_seq) / S
    else:
        loss = sum(t.mean() for t in per_seq) / S
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()
    with torch.no_grad():
        after = m(torch.tensor([spec['sequences'][0]])).logits[0].flatten().tolist()
    out.append({'loss': loss.item(), 'gradNorm': norm.item(), 'logits': after})
print(json.dumps(out))
`;
    const specPath = join(dir, 'spec.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      specPath,
      JSON.stringify({
        cases: inputs,
        config,
        T,
        sequences: batch.sequences,
        mask: batch.responseMask,
        adv: batch.advantages,
      }),
    );
    const reference = JSON.parse(await runPython(script, [specPath])) as typeof ours;
    reference.forEach((ref, k) => {
      const mine = ours[k]!;
      assertClose(mine.loss, ref.loss, 1e-4, `${cases[k]!.mode} loss`);
      assertClose(mine.gradNorm, ref.gradNorm, 1e-4, `${cases[k]!.mode} gradNorm`);
      const scale = Math.max(...ref.logits.map(Math.abs));
      assert.ok(
        maxAbsDiff(mine.logits, ref.logits) < 1e-4 * scale,
        `${cases[k]!.mode} logits after the AdamW step`,
      );
    });
  });

  test('bad train inputs are Errors that say what is wrong', async () => {
    const policy = await Policy.init(tinyConfig(), { seed: 8 });
    const batch = makeBatch();
    await assert.rejects(
      policy.trainStep({ ...batch, advantages: undefined }, baseOptions),
      /advantages are required for the grpo loss/,
    );
    await assert.rejects(
      policy.trainStep({ ...batch, advantages: [1, 2] }, baseOptions),
      /advantages must have one value per sequence \(4\), got 2/,
    );
    await assert.rejects(
      policy.trainStep(batch, { ...baseOptions, klCoef: 0.1 }),
      /refLogprobs are required when klCoef != 0/,
    );
    await assert.rejects(
      policy.trainStep(batch, { ...baseOptions, lossAggregation: 'mean' as LossAggregation }),
      /unknown loss aggregation 'mean'/,
    );
    await assert.rejects(
      policy.trainStep(
        { ...batch, responseMask: batch.responseMask.map((m) => m.map(() => 0)) },
        baseOptions,
      ),
      /responseMask selects no tokens/,
    );
    await assert.rejects(
      policy.trainStep(
        { ...batch, oldLogprobs: batch.sequences.map((s) => s.slice(1).map(() => 0)) },
        baseOptions,
      ),
      /oldLogprobs\[0\] has 13 entries but sequence 0 has 14 tokens/,
    );
    await assert.rejects(
      policy.trainStep(batch, { ...baseOptions, clipC: 0.5 }),
      /clipC \(dual clip\) must be > 1/,
    );
    // nothing was applied: the step counter is unchanged
    assert.equal(policy.step, 0);
    policy.dispose();
  });
});
