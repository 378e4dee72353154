// The native engine against the PyTorch/transformers reference: loads the committed tiny Qwen2 fixtures
// (test/fixtures/engine, made by scripts/make-engine-fixtures.py; conventions in its docstring) through the
// Policy API and checks logits, log-probs, entropies, the GRPO/SFT losses and grad norms, the weights after
// one AdamW step and greedy generations within 1e-4 relative (fp32); gradient accumulation over
// micro-batches gives the one-batch result; and a checkpoint the engine writes loads in transformers
// (scripts/check-hf-load.py) with the same logits.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  engineInfo,
  Policy,
  type Device,
  type LossAggregation,
  type TrainBatch,
  type TrainStepOptions,
} from '../../native/index';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'test', 'fixtures', 'engine');
const python = join(root, '.venv', 'bin', 'python');
const RTOL = 1e-4;

// ---- fixture files -------------------------------------------------------------------------------------

interface TensorData {
  shape: number[];
  data: Float32Array;
}

/** Reads the F32 tensors of a safetensors file (8-byte little-endian header size, JSON header, raw data). */
function readSafetensors(path: string): Map<string, TensorData> {
  const bytes = readFileSync(path);
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLen;
  const out = new Map<string, TensorData>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    assert.equal(entry.dtype, 'F32', `${path}: ${name} is ${entry.dtype}, this reader takes F32 only`);
    const [begin, end] = entry.data_offsets;
    // Copy: the data offset need not be 4-byte aligned inside the file buffer.
    const data = new Float32Array(new Uint8Array(bytes.subarray(base + begin, base + end)).buffer);
    out.set(name, { shape: entry.shape, data });
  }
  return out;
}

interface LossCase {
  loss: number;
  clip_frac_low: number;
  clip_frac_high: number;
  approx_kl: number;
  ref_kl: number | null;
  entropy_mean: number | null;
  tokens: number;
  grad_norm: number;
}

interface Reference {
  tied: boolean;
  padded_width: number;
  sequences: number[][];
  response_mask: number[][];
  advantages: number[];
  clip_low: number;
  clip_high: number;
  grpo: Record<LossAggregation, LossCase>;
  grpo_full: LossCase & {
    options: { aggregation: LossAggregation; clip_c: number; kl_coef: number; entropy_coef: number };
  };
  sft: { loss: number; grad_norm: number; tokens: number };
  adamw: {
    options: {
      lr: number;
      betas: [number, number];
      eps: number;
      weight_decay: number;
      max_grad_norm: number;
    };
    loss: number;
    grad_norm: number;
  };
  greedy: { prompt: number[]; tokens: number[]; logprobs: number[] }[];
}

interface Fixture {
  kind: string;
  modelDir: string;
  ref: Reference;
  arrays: Map<string, TensorData>;
  after: Map<string, TensorData>;
}

function loadFixture(kind: string): Fixture {
  const dir = join(fixtures, kind);
  return {
    kind,
    modelDir: join(dir, 'model'),
    ref: JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference,
    arrays: readSafetensors(join(dir, 'reference.safetensors')),
    after: readSafetensors(join(dir, 'after-adamw-step.safetensors')),
  };
}

/** Row b of a [B, T] (or the [T, V] block of a [B, T, V]) fixture array, first `length` positions. */
function row(t: TensorData, b: number, length: number): Float32Array {
  const inner = t.shape.slice(1).reduce((a, n) => a * n, 1);
  const perPos = inner / t.shape[1]!;
  return t.data.subarray(b * inner, b * inner + length * perPos);
}

function get(m: Map<string, TensorData>, name: string): TensorData {
  const t = m.get(name);
  assert.ok(t, `fixture tensor ${name} is missing`);
  return t;
}

// ---- comparisons ---------------------------------------------------------------------------------------

/**
 * Largest |a − e| / max(|e|, 1% of the array's largest |e|) per quantity, printed after each suite: how
 * much of the 1e-4 relative budget is used (the floor keeps near-zero entries from dominating).
 */
const worstRelative = new Map<string, number>();

/** |a − e| ≤ rtol·|e| + atol elementwise; the message names the worst element. */
function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  atol = 1e-5,
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  let maxRelative = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  const floor = Math.max(1e-2 * scale, 1e-12);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (RTOL * Math.abs(e) + atol);
    maxRelative = Math.max(maxRelative, Math.abs(a - e) / Math.max(Math.abs(e), floor));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  const quantity = what.replace(/\[\d+\]/g, '').replace(/ \(microBatchTokens [^)]*\)/, '');
  worstRelative.set(quantity, Math.max(worstRelative.get(quantity) ?? 0, maxRelative));
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${RTOL}, atol ${atol})`,
    );
  }
}

function assertClose(actual: number, expected: number, what: string, atol = 1e-6): void {
  assertAllClose([actual], [expected], what, atol);
}

// ---- engine inputs from the fixture --------------------------------------------------------------------

/** The fixture's per-token [B, T] array cut to each sequence's length (what the engine takes and returns). */
function perSequence(f: Fixture, name: string): Float32Array[] {
  return f.ref.sequences.map((seq, b) => row(get(f.arrays, name), b, seq.length));
}

function trainBatch(f: Fixture): TrainBatch {
  return {
    sequences: f.ref.sequences,
    responseMask: f.ref.response_mask,
    advantages: f.ref.advantages,
    oldLogprobs: perSequence(f, 'old_logprobs'),
    refLogprobs: perSequence(f, 'ref_logprobs'),
  };
}

function trainOptions(f: Fixture, overrides: Partial<TrainStepOptions> = {}): TrainStepOptions {
  const a = f.ref.adamw.options;
  return {
    loss: 'grpo',
    lossAggregation: 'token-mean',
    clipLow: f.ref.clip_low,
    clipHigh: f.ref.clip_high,
    lr: a.lr,
    betas: a.betas,
    eps: a.eps,
    weightDecay: a.weight_decay,
    gradClip: a.max_grad_norm,
    ...overrides,
  };
}

function assertLossCase(
  result: { loss: number; gradNorm: number; tokens: number },
  expected: LossCase,
  what: string,
): void {
  assertClose(result.loss, expected.loss, `${what} loss`);
  assertClose(result.gradNorm, expected.grad_norm, `${what} grad norm`);
  assert.equal(result.tokens, expected.tokens, `${what} tokens`);
}

/**
 * Checks a first AdamW step element by element. With zero moments, the update of weight w with clipped
 * gradient ĝ is Δ = −lr·λ·w − lr·s, s = ĝ/(|ĝ| + ε) (bias corrections cancel at t = 1), so s is recovered
 * from the reference update. A relative gradient error δ moves s by |s|(1 − |s|)·δ; for |ĝ| ≫ ε that is
 * ≈ ε/|ĝ|, so nearly every element is held to 1e-3·lr, but an element with |ĝ| ≈ ε (≈1% here) turns
 * fp32 rounding of its tiny gradient into a visible update difference: PyTorch's own fp32 step misses
 * the float64 reference by up to 6e-5 there. Tolerance: lr·(1e-3 + |s|(1 − |s|)) — exact updates for
 * the bulk, and up to 100% relative gradient error on the ε-dominated elements only. A plain "weights
 * within 1e-4 relative" would both fail PyTorch fp32 and hide a wrong update (Δ ≈ lr ≪ |w|).
 */
function assertAdamWUpdate(
  w0: Float32Array,
  actual: Float32Array,
  expected: Float32Array,
  o: { lr: number; weight_decay: number },
  what: string,
): void {
  for (let i = 0; i < w0.length; i++) {
    const refUpdate = expected[i]! - w0[i]!;
    const s = Math.min(1, Math.abs((refUpdate + o.lr * o.weight_decay * w0[i]!) / o.lr));
    const tol = o.lr * (1e-3 + s * (1 - s));
    const diff = Math.abs(actual[i]! - w0[i]! - refUpdate);
    if (!(diff <= tol)) {
      assert.fail(
        `${what}[${i}]: update ${actual[i]! - w0[i]!}, reference ${refUpdate} (|diff| ${diff.toExponential(2)} > tolerance ${tol.toExponential(2)})`,
      );
    }
  }
}

const execFileAsync = promisify(execFile);

interface HfReport {
  model: string;
  tied: boolean;
  tokenizerLoaded: boolean;
  tensorNames: string[];
  weightsIdentical?: boolean;
  maxAbsLogitDiff?: number;
}

/** Runs scripts/check-hf-load.py on several jobs in one Python start; returns one report per job. */
async function checkHfLoad(
  jobs: { model: string; sequences: number[][]; out: string; reference?: string }[],
): Promise<HfReport[]> {
  const work = mkdtempSync(join(tmpdir(), 'siri-hf-spec-'));
  try {
    const spec = join(work, 'spec.json');
    writeFileSync(spec, JSON.stringify(jobs));
    const { stdout } = await execFileAsync(
      python,
      [join(root, 'scripts', 'check-hf-load.py'), '--spec', spec],
      {
        env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' },
        maxBuffer: 64 << 20,
      },
    );
    return stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as HfReport);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

// ---- the tests -----------------------------------------------------------------------------------------

// Every device the engine sees: CPU always, CUDA when present (nothing may assume CPU only).
const devices: Device[] = engineInfo().cudaAvailable ? ['cpu', 'cuda'] : ['cpu'];

for (const [device, kind] of devices.flatMap((d) => ['tied', 'untied'].map((k) => [d, k] as const))) {
  describe(`native engine vs transformers: ${kind} Qwen2 fixture on ${device}`, () => {
    const f = loadFixture(kind);
    const lengths = f.ref.sequences.map((s) => s.length);
    const load = (): Promise<Policy> => Policy.load(f.modelDir, { device });
    after(() => {
      const lines = [...worstRelative].map(([q, r]) => `  ${q}: ${r.toExponential(2)}`);
      console.log(`max relative difference to the reference (${kind}, ${device}):\n${lines.join('\n')}`);
      worstRelative.clear();
    });

    test('forwardLogits match the reference logits', async () => {
      const policy = await load();
      try {
        assert.equal(policy.config.tie_word_embeddings, f.ref.tied);
        const logits = await policy.forwardLogits(f.ref.sequences);
        logits.forEach((l, b) =>
          assertAllClose(l, row(get(f.arrays, 'logits'), b, lengths[b]!), `logits[${b}]`),
        );
      } finally {
        policy.dispose();
      }
    });

    test('logprobs and entropies match on every position and respect the response mask', async () => {
      const policy = await load();
      try {
        const everyToken = lengths.map((n) => Array.from({ length: n }, (_, t) => (t === 0 ? 0 : 1)));
        const all = await policy.logprobs(f.ref.sequences, everyToken);
        const lp = perSequence(f, 'logprobs');
        const ent = perSequence(f, 'entropies');
        all.logprobs.forEach((v, b) => assertAllClose(v, lp[b]!, `logprobs[${b}]`));
        all.entropies.forEach((v, b) => assertAllClose(v, ent[b]!, `entropies[${b}]`));

        const masked = await policy.logprobs(f.ref.sequences, f.ref.response_mask);
        masked.logprobs.forEach((v, b) => {
          const expected = lp[b]!.map((x, t) => (f.ref.response_mask[b]![t] ? x : 0));
          assertAllClose(v, expected, `masked logprobs[${b}]`);
        });
      } finally {
        policy.dispose();
      }
    });

    for (const aggregation of ['token-mean', 'seq-mean-token-sum', 'seq-mean-token-mean'] as const) {
      test(`GRPO ${aggregation}: loss, grad norm and clip statistics; micro-batching changes nothing`, async () => {
        const expected = f.ref.grpo[aggregation];
        assert.ok(
          expected.clip_frac_low > 0 && expected.clip_frac_high > 0,
          'the fixture clips on both sides',
        );
        for (const microBatchTokens of [undefined, 16]) {
          const policy = await load();
          try {
            const r = await policy.trainStep(
              trainBatch(f),
              trainOptions(f, {
                lossAggregation: aggregation,
                ...(microBatchTokens ? { microBatchTokens } : {}),
              }),
            );
            const what = `${aggregation} (microBatchTokens ${microBatchTokens ?? 'default'})`;
            if (microBatchTokens) assert.equal(r.microBatches, 2, `${what}: one sequence per micro-batch`);
            assertLossCase(r, expected, what);
            assertClose(r.clipFracLow, expected.clip_frac_low, `${what} clipFracLow`);
            assertClose(r.clipFracHigh, expected.clip_frac_high, `${what} clipFracHigh`);
            assertClose(r.approxKl, expected.approx_kl, `${what} approxKl`);
          } finally {
            policy.dispose();
          }
        }
      });
    }

    test('GRPO with dual clip, k3 KL penalty and entropy bonus', async () => {
      const expected = f.ref.grpo_full;
      const policy = await load();
      try {
        const r = await policy.trainStep(
          trainBatch(f),
          trainOptions(f, {
            lossAggregation: expected.options.aggregation,
            clipC: expected.options.clip_c,
            klCoef: expected.options.kl_coef,
            entropyCoef: expected.options.entropy_coef,
          }),
        );
        assertLossCase(r, expected, 'full GRPO');
        assertClose(r.refKl, expected.ref_kl!, 'refKl');
        assertClose(r.entropy, expected.entropy_mean!, 'mean entropy');
      } finally {
        policy.dispose();
      }
    });

    test('SFT loss and grad norm', async () => {
      const policy = await load();
      try {
        const r = await policy.trainStep(
          { sequences: f.ref.sequences, responseMask: f.ref.response_mask },
          trainOptions(f, { loss: 'sft' }),
        );
        assertClose(r.loss, f.ref.sft.loss, 'sft loss');
        assertClose(r.gradNorm, f.ref.sft.grad_norm, 'sft grad norm');
      } finally {
        policy.dispose();
      }
    });

    test('greedy generation equals transformers greedy', async () => {
      const policy = await load();
      try {
        const out = await policy.generate(
          f.ref.greedy.map((g) => g.prompt),
          { samplesPerPrompt: 1, maxNewTokens: f.ref.greedy[0]!.tokens.length, temperature: 0 },
        );
        out.forEach((r, i) => {
          const g = f.ref.greedy[i]!;
          assert.deepEqual(r.tokenIds, g.tokens, `greedy tokens of prompt ${i}`);
          assert.equal(r.finishReason, 'length');
          assertAllClose(r.logprobs, g.logprobs, `greedy token log-probs of prompt ${i}`);
        });
      } finally {
        policy.dispose();
      }
    });

    test('one AdamW step gives the reference weights; the saved checkpoints load in transformers', async () => {
      const work = mkdtempSync(join(tmpdir(), `siri-ref-${kind}-`));
      const policy = await load();
      try {
        const untouched = join(work, 'untouched');
        await policy.save(untouched);

        const r = await policy.trainStep(trainBatch(f), trainOptions(f));
        assertClose(r.loss, f.ref.adamw.loss, 'step loss');
        assertClose(r.gradNorm, f.ref.adamw.grad_norm, 'step grad norm (before clipping)');
        assert.equal(r.step, 1);
        const trained = join(work, 'trained');
        await policy.save(trained, { weightsDtype: 'float32' });
        const saved = readSafetensors(join(trained, 'model.safetensors'));
        assert.deepEqual([...saved.keys()].sort(), [...f.after.keys()].sort(), 'checkpoint tensor names');
        const before = readSafetensors(join(f.modelDir, 'model.safetensors'));
        for (const [name, expected] of f.after) {
          const actual = get(saved, name);
          assert.deepEqual(actual.shape, expected.shape, `${name} shape`);
          assertAdamWUpdate(get(before, name).data, actual.data, expected.data, f.ref.adamw.options, name);
        }

        const engineLogits = await policy.forwardLogits(f.ref.sequences);
        // A bf16 copy (the dtype real Qwen2 checkpoints ship in), reloaded by the engine and by transformers.
        const bf16 = join(work, 'bf16');
        await policy.save(bf16, { weightsDtype: 'bfloat16', optimizer: false });
        const bf16Policy = await Policy.load(bf16, { device });
        const bf16Logits = await bf16Policy
          .forwardLogits(f.ref.sequences)
          .finally(() => bf16Policy.dispose());

        const [plain, afterStep, bf16Report] = await checkHfLoad([
          {
            model: untouched,
            sequences: f.ref.sequences,
            out: join(work, 'untouched.safetensors'),
            reference: f.modelDir,
          },
          { model: trained, sequences: f.ref.sequences, out: join(work, 'trained.safetensors') },
          { model: bf16, sequences: f.ref.sequences, out: join(work, 'bf16.safetensors') },
        ]);
        assert.equal(plain!.tied, f.ref.tied, 'transformers sees the same tying');
        assert.equal(plain!.tokenizerLoaded, true, 'the tokenizer travels with the checkpoint');
        assert.equal(plain!.weightsIdentical, true, 'load → save leaves every weight bit-identical');
        assert.equal(plain!.maxAbsLogitDiff, 0, 'identical logits in transformers');
        assert.equal(afterStep!.tied, f.ref.tied);
        const hf = readSafetensors(join(work, 'trained.safetensors'));
        engineLogits.forEach((l, b) =>
          assertAllClose(l, get(hf, `logits_${b}`).data, `trained logits[${b}] engine vs HF`),
        );
        assert.equal(bf16Report!.tied, f.ref.tied);
        const hfBf16 = readSafetensors(join(work, 'bf16.safetensors'));
        bf16Logits.forEach((l, b) =>
          assertAllClose(l, get(hfBf16, `logits_${b}`).data, `bf16 checkpoint logits[${b}] engine vs HF`),
        );
      } finally {
        policy.dispose();
        rmSync(work, { recursive: true, force: true });
      }
    });
  });
}

// The loss and optimizer code on its own (native/src/loss.cc, adamw.cc) through the C++ unit driver in
// native/tests: every loss case's value and gradients vs PyTorch autograd, a 3-step AdamW + clipping
// trajectory bit-exact vs torch.optim.AdamW, state dict round trip, fp32 master weights, error messages.
// Builds incrementally into native/build/tests (the first build takes ~30 s on 2 cores).
test('C++ unit driver: losses and AdamW against PyTorch', { timeout: 300_000 }, async () => {
  const { stdout } = await execFileAsync(join(root, 'native', 'tests', 'run-unit-tests'), [], {
    maxBuffer: 16 << 20,
  }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
    assert.fail(`native/tests/run-unit-tests failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  });
  const summary = /(\d+) passed, (\d+) failed/.exec(stdout);
  assert.ok(summary, `no summary line in:\n${stdout}`);
  assert.equal(summary[2], '0', stdout);
  assert.ok(Number(summary[1]) >= 150, `only ${summary[1]} checks ran`);
});

// The same fixtures through the engine's own C++ binary (native/tests/engine_reference.cc, built with the
// addon into native/build): what a GPU machine without Node runs. float32 to this file's 1e-4; bfloat16
// compute to the binary's 5e-2 (measured worst on the CPU: 1.7e-2 entropies, 5.4e-3 log-probs; greedy
// decoding may leave transformers' path only at a near-tie). CUDA runs where a device is visible.
describe('native engine fixture binary (no Node)', () => {
  const binary = join(root, 'native', 'build', 'siri_engine_reference');
  const cuda = engineInfo().cudaAvailable;
  for (const device of ['cpu', 'cuda'] as const) {
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const skip = device === 'cuda' && !cuda ? 'no CUDA device visible to the engine' : false;
      test(`${device} ${dtype}`, { skip, timeout: 120_000 }, async () => {
        const args = ['--fixtures', fixtures, '--device', device, '--compute-dtype', dtype];
        const { stdout } = await execFileAsync(binary, args, { maxBuffer: 16 << 20 }).catch(
          (e: { stdout?: string; stderr?: string; message: string }) => {
            assert.fail(`${binary} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
          },
        );
        const summary = /(\d+) passed, (\d+) failed/.exec(stdout);
        assert.ok(summary, `no summary line in:\n${stdout}`);
        assert.equal(summary[2], '0', stdout);
        assert.ok(Number(summary[1]) >= 100, `only ${summary[1]} checks ran:\n${stdout}`);
      });
    }
  }
});
