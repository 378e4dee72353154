// Continuous batching in generate (issue #10): whatever the slot count (maxBatch / kvCacheBytes) and
// schedule (continuousBatching), every sample gets the same tokens — greedy and seeded sampling, prompts of
// different lengths, samples that stop early and ones that run to maxNewTokens — and with too few slots a
// waiting prompt is admitted while other samples are still decoding.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  Policy,
  PolicyTokenizer,
  type GenerateOptions,
  type GenerateResult,
  type ProgressEvent,
} from '../../native';
import { maxAbsDiff, projectRoot, randomIds, tinyConfig } from './helpers';

const V = 512;
const toyBase = join(projectRoot, 'toy', 'base');

/** The same tokens and finish reasons per sample; log-probs equal up to float rounding of other batch shapes. */
function assertSameSamples(actual: GenerateResult[], expected: GenerateResult[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    assert.deepEqual(a.tokenIds, e.tokenIds, `${what}: sample ${i}`);
    assert.equal(a.finishReason, e.finishReason, `${what}: sample ${i}`);
    assert.ok(maxAbsDiff(a.logprobs, e.logprobs) < 1e-4, `${what}: sample ${i} logprobs`);
    assert.ok(
      maxAbsDiff(a.samplingLogprobs, e.samplingLogprobs) < 1e-4,
      `${what}: sample ${i} samplingLogprobs`,
    );
  });
}

/** Runs `options` with all prompts in one pool, then with 1 and 2 prompts' worth of slots, both schedules. */
async function assertSlotInvariant(
  policy: Policy,
  prompts: number[][],
  options: GenerateOptions,
  what: string,
): Promise<GenerateResult[]> {
  const all = await policy.generate(prompts, options);
  const S = options.samplesPerPrompt;
  for (const slotPrompts of [1, 2]) {
    for (const continuousBatching of [true, false]) {
      const out = await policy.generate(prompts, {
        ...options,
        maxBatch: slotPrompts * S,
        continuousBatching,
      });
      assertSameSamples(
        out,
        all,
        `${what}, ${slotPrompts} prompt(s) of slots, continuous ${continuousBatching}`,
      );
    }
  }
  return all;
}

/** Prefill events that came while samples were still decoding (the last decode event had active > 0). */
function midDecodeAdmissions(events: ProgressEvent[]): ProgressEvent[] {
  let active = 0;
  const found: ProgressEvent[] = [];
  for (const e of events) {
    if (e.phase === 'prefill' && active > 0) found.push(e);
    if (e.phase === 'decode') active = e.active;
  }
  return found;
}

describe('continuous batching: tiny random Qwen2', () => {
  let policy: Policy;
  const prompts = [4, 9, 2, 13, 6, 3].map((n, i) => randomIds(n, V, 100 + i));
  // Stopping on 1 id in 16 ends some samples after a few tokens while others run to the length.
  const stopTokenIds = Array.from({ length: V / 16 }, (_, i) => i * 16);
  before(async () => {
    policy = await Policy.init(tinyConfig(), { seed: 7, threads: 1 });
  });
  after(() => policy.dispose());

  test('seeded sampling: every sample the same with 1, 2 or all prompts of slots', async () => {
    const all = await assertSlotInvariant(
      policy,
      prompts,
      { samplesPerPrompt: 3, maxNewTokens: 20, temperature: 1, topP: 0.95, seed: 42, stopTokenIds },
      'sampling',
    );
    const reasons = new Set(all.map((s) => s.finishReason));
    assert.deepEqual(
      [...reasons].sort(),
      ['length', 'stop'],
      'some samples stop early, others hit maxNewTokens',
    );
    assert.ok(new Set(all.map((s) => s.length)).size >= 4, 'samples of many lengths');
  });

  test('greedy: every sample the same with 1, 2 or all prompts of slots', async () => {
    const all = await assertSlotInvariant(
      policy,
      prompts,
      { samplesPerPrompt: 1, maxNewTokens: 20, temperature: 0, stopTokenIds },
      'greedy',
    );
    assert.ok(all.some((s) => s.finishReason === 'length'));
  });

  test('a KV-cache budget of one prompt gives the same samples as maxBatch', async () => {
    const options = { samplesPerPrompt: 2, maxNewTokens: 12, temperature: 0.8, seed: 5, stopTokenIds };
    const all = await policy.generate(prompts, options);
    assertSameSamples(await policy.generate(prompts, { ...options, kvCacheBytes: 1 }), all, 'kvCacheBytes 1');
  });

  test('too few slots: waiting prompts are admitted while other samples still decode', async () => {
    const options = {
      samplesPerPrompt: 2,
      maxNewTokens: 20,
      temperature: 1,
      seed: 42,
      stopTokenIds,
      maxBatch: 4,
    };
    const events: ProgressEvent[] = [];
    await policy.generate(prompts, { ...options, onProgress: (e) => events.push(e) });
    const mid = midDecodeAdmissions(events);
    assert.ok(mid.length > 0, 'a prompt was admitted mid-decode');
    // Each admission counts its prompts; all of them end up admitted, in order.
    const admitted = events.filter((e) => e.phase === 'prefill').map((e) => e.admitted!);
    assert.deepEqual(
      admitted,
      [...admitted].sort((a, b) => a - b),
    );
    assert.equal(admitted.at(-1), prompts.length);
    assert.ok(events.every((e) => e.admitted !== undefined && e.current <= e.total));
    // The group-by-group schedule only admits into an empty pool.
    const grouped: ProgressEvent[] = [];
    await policy.generate(prompts, {
      ...options,
      continuousBatching: false,
      onProgress: (e) => grouped.push(e),
    });
    assert.deepEqual(midDecodeAdmissions(grouped), []);
    assert.equal(grouped.filter((e) => e.phase === 'prefill').length, prompts.length / 2);
  });

  test('all prompts in one pool: one prefill, then decode steps (the default schedule)', async () => {
    const events: ProgressEvent[] = [];
    await policy.generate(prompts, {
      samplesPerPrompt: 2,
      maxNewTokens: 6,
      temperature: 1,
      seed: 1,
      onProgress: (e) => events.push(e),
    });
    assert.deepEqual(
      events.map((e) => `${e.phase}:${e.current}/${e.total} admitted ${e.admitted}`),
      ['prefill:0/6 admitted 6', ...[1, 2, 3, 4, 5, 6].map((k) => `decode:${k}/6 admitted 6`)],
    );
    assert.equal(events[0]!.active, 12);
    assert.equal(events.at(-1)!.active, 0);
  });
});

describe(
  'continuous batching: toy base model',
  { skip: !existsSync(join(toyBase, 'model.safetensors')) && 'toy/base not made yet' },
  () => {
    let policy: Policy;
    let prompts: number[][];
    let stopTokenIds: number[];
    before(async () => {
      policy = await Policy.load(toyBase, { threads: 1, optimizer: false });
      const tokenizer = await PolicyTokenizer.load(toyBase);
      stopTokenIds = [...tokenizer.eosTokenIds];
      prompts = readFileSync(join(projectRoot, 'toy', 'data', 'eval.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .slice(0, 8)
        .map((line) => tokenizer.encode((JSON.parse(line) as { problem: string }).problem));
    });
    after(() => policy.dispose());

    test('temperature 1: every sample the same with 1, 2 or all prompts of slots', async () => {
      const all = await assertSlotInvariant(
        policy,
        prompts,
        { samplesPerPrompt: 3, maxNewTokens: 96, temperature: 1, seed: 1, stopTokenIds },
        'toy sampling',
      );
      assert.ok(new Set(prompts.map((p) => p.length)).size > 1, 'prompts of different lengths');
      assert.ok(all.some((s) => s.finishReason === 'stop'));
      assert.ok(all.some((s) => s.finishReason === 'length'));
    });

    test('greedy: every sample the same with 1, 2 or all prompts of slots', async () => {
      const all = await assertSlotInvariant(
        policy,
        prompts,
        { samplesPerPrompt: 1, maxNewTokens: 48, temperature: 0, stopTokenIds },
        'toy greedy',
      );
      assert.ok(all.some((s) => s.finishReason === 'stop'));
    });

    // kvCacheDtype 'bfloat16' stores K/V in bf16 (attention multiplies in bf16, softmax in fp32): greedy
    // decoding follows the fp32 cache's tokens except at near-ties, log-probs move by bf16 rounding but do
    // move (the cache really is bf16), and kvCacheBytes buys twice the slots.
    test('bf16 KV cache: greedy tokens as with fp32 up to near-ties, twice the slots per byte', async () => {
      const greedy: GenerateOptions = { samplesPerPrompt: 1, maxNewTokens: 64, temperature: 0, stopTokenIds };
      const fp32 = await policy.generate(prompts, greedy);
      const bf16 = await policy.generate(prompts, { ...greedy, kvCacheDtype: 'bfloat16' });
      let identical = 0;
      let largest = 0;
      fp32.forEach((e, i) => {
        const a = bf16[i]!;
        let k = 0;
        while (k < e.tokenIds.length && a.tokenIds[k] === e.tokenIds[k]) k++;
        if (k === e.tokenIds.length && k === a.tokenIds.length) identical++;
        const d = maxAbsDiff(a.logprobs.slice(0, k), e.logprobs.slice(0, k));
        largest = Math.max(largest, d);
        assert.ok(d < 5e-2, `sample ${i}: log-probs differ by ${d} before token ${k}`);
        // Where the paths part, the fp32 choice must have been a near-tie under the bf16 cache.
        if (k < e.tokenIds.length && k < a.tokenIds.length) {
          assert.ok(
            Math.abs(a.logprobs[k]! - e.logprobs[k]!) < 0.1,
            `sample ${i}: token ${k} is ${a.tokenIds[k]} (log-prob ${a.logprobs[k]}) with bf16, ${e.tokenIds[k]} (${e.logprobs[k]}) with fp32`,
          );
        }
      });
      assert.ok(
        identical >= prompts.length - 1,
        `only ${identical} of ${prompts.length} greedy samples identical`,
      );
      assert.ok(largest > 0, 'bf16 cache gave bit-identical log-probs: the cache is not bf16');

      // A budget for exactly two prompts' fp32 caches admits four prompts at once in bf16.
      const cfg = policy.config;
      const longest = Math.max(...prompts.map((p) => p.length));
      const headDim = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
      const fp32Bytes =
        cfg.num_hidden_layers *
        2 *
        (cfg.num_key_value_heads ?? cfg.num_attention_heads) *
        headDim *
        (longest + 8) *
        4;
      const firstAdmission = async (kvCacheDtype: 'float32' | 'bfloat16'): Promise<number> => {
        const events: ProgressEvent[] = [];
        await policy.generate(prompts, {
          ...greedy,
          maxNewTokens: 8,
          kvCacheBytes: 2 * fp32Bytes,
          kvCacheDtype,
          onProgress: (e) => events.push(e),
        });
        return events.find((e) => e.phase === 'prefill')!.admitted!;
      };
      assert.equal(await firstAdmission('float32'), 2);
      assert.equal(await firstAdmission('bfloat16'), 4);
      await assert.rejects(
        policy.generate(prompts, { ...greedy, kvCacheDtype: 'float16' as 'bfloat16' }),
        /kvCacheDtype must be 'float32' or 'bfloat16', got 'float16'/,
      );
    });
  },
);
