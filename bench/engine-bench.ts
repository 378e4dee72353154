// Benchmark of the native engine against PyTorch eager (bench/engine_reference.py), side by side in one run
// on this machine with the same thread count and the same workloads (native/src/INTERFACE.md):
//   trainStep: 16 x 256 tokens (64 prompt + 192 response), GRPO token-mean, one micro-batch, AdamW
//   generate:  8 prompts x 8 samples, 32-token prompts, 128 new tokens, temperature 1, no stop tokens
//   logprobs:  16 x 256 tokens, log-probs + entropies of the last 192
// on the tiny (2 layers, hidden 64, vocab 512) and small (4 layers, hidden 256, vocab 4096) Qwen2 configs.
// The machine is shared, so the two sides run alternately for --rounds rounds and each side's best round
// counts (contention only ever slows a run down). Writes bench/results/engine-<config>.json (machine,
// date, every round of both sides, best-of ratios) and prints a table.
// The engine runs in fp32 (the like-for-like comparison) and, as an extra column, with bf16 trunk GEMMs
// (computeDtype 'bfloat16'; fp32 master weights, norms, attention and LM head) — PyTorch stays fp32.
// Usage: npx tsx bench/engine-bench.ts [--config tiny|small] [--threads N] [--rounds R] [--reps-scale F]
//        [--no-bf16] [--no-reference]
import { benchMachine } from './machine';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Policy, engineInfo, type ComputeDtype, type Qwen2Config } from '../native';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const CONFIGS: Record<string, Qwen2Config> = {
  tiny: {
    num_hidden_layers: 2,
    hidden_size: 64,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 128,
    vocab_size: 512,
    tie_word_embeddings: true,
    rope_theta: 10000.0,
    rms_norm_eps: 1e-6,
    max_position_embeddings: 2048,
  },
  small: {
    num_hidden_layers: 4,
    hidden_size: 256,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 1024,
    vocab_size: 4096,
    tie_word_embeddings: false,
    rope_theta: 10000.0,
    rms_norm_eps: 1e-6,
    max_position_embeddings: 2048,
  },
};
const TRAIN = { batch: 16, seq: 256, prompt: 64, lr: 1e-5 };
const GENERATE = { prompts: 8, samples: 8, promptLen: 32, newTokens: 128 };
const LOGPROBS = { batch: 16, seq: 256, response: 192 };

interface SideResult {
  trainStepTokensPerS: number;
  generateTokensPerS: number;
  logprobsTokensPerS: number;
  timings: Record<string, number[]>;
}

/** Deterministic pseudo-random numbers (LCG) for ids, advantages and noise. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function timed(fn: () => Promise<unknown>, warmup: number, reps: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return times;
}

async function benchOurs(
  name: string,
  threads: number,
  reps: (n: number) => number,
  computeDtype: ComputeDtype,
): Promise<SideResult> {
  const config = CONFIGS[name]!;
  const V = config.vocab_size;
  const policy = await Policy.init(config, { seed: 0, threads, computeDtype });
  const rand = lcg(1);
  const ids = (n: number): number[] => Array.from({ length: n }, () => Math.floor(rand() * V));
  const timings: Record<string, number[]> = {};

  // trainStep
  const sequences = Array.from({ length: TRAIN.batch }, () => ids(TRAIN.seq));
  const responseMask = sequences.map((s) => s.map((_, t) => (t >= TRAIN.prompt ? 1 : 0)));
  const advantages = sequences.map(() => rand() * 2 - 1);
  const { logprobs } = await policy.logprobs(sequences, responseMask);
  const oldLogprobs = logprobs.map((row) => Array.from(row, (v) => v + 0.1 * (rand() * 2 - 1)));
  timings.trainStepS = await timed(
    () =>
      policy.trainStep(
        { sequences, responseMask, advantages, oldLogprobs },
        {
          loss: 'grpo',
          clipLow: 0.2,
          clipHigh: 0.28,
          lossAggregation: 'token-mean',
          lr: TRAIN.lr,
          betas: [0.9, 0.999],
          eps: 1e-8,
          weightDecay: 0.01,
          gradClip: 1.0,
          microBatchTokens: TRAIN.batch * TRAIN.seq,
        },
      ),
    1,
    reps(5),
  );

  // logprobs
  const scoreSeqs = Array.from({ length: LOGPROBS.batch }, () => ids(LOGPROBS.seq));
  const scoreMask = scoreSeqs.map((s) => s.map((_, t) => (t >= LOGPROBS.seq - LOGPROBS.response ? 1 : 0)));
  timings.logprobsS = await timed(
    () => policy.logprobs(scoreSeqs, scoreMask, { microBatchTokens: LOGPROBS.batch * LOGPROBS.seq }),
    1,
    reps(5),
  );

  // generate
  const prompts = Array.from({ length: GENERATE.prompts }, () => ids(GENERATE.promptLen));
  timings.generateS = await timed(
    () =>
      policy.generate(prompts, {
        samplesPerPrompt: GENERATE.samples,
        maxNewTokens: GENERATE.newTokens,
        temperature: 1,
        seed: 4,
      }),
    1,
    reps(3),
  );
  policy.dispose();
  return {
    trainStepTokensPerS: (TRAIN.batch * TRAIN.seq) / median(timings.trainStepS),
    logprobsTokensPerS: (LOGPROBS.batch * LOGPROBS.seq) / median(timings.logprobsS),
    generateTokensPerS:
      (GENERATE.prompts * GENERATE.samples * GENERATE.newTokens) / median(timings.generateS),
    timings,
  };
}

function benchReference(
  name: string,
  threads: number,
  repsScale: number,
): Promise<SideResult & Record<string, unknown>> {
  const python = join(root, '.venv', 'bin', 'python');
  const args = [join(root, 'bench', 'engine_reference.py'), '--config', name, '--threads', String(threads)];
  if (repsScale !== 1) args.push('--reps-scale', String(repsScale));
  return new Promise((resolve, reject) => {
    execFile(python, args, { maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`engine_reference.py failed: ${err.message}\n${stderr}`));
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as SideResult & Record<string, unknown>);
      } catch {
        reject(new Error(`engine_reference.py printed no JSON: ${stdout}\n${stderr}`));
      }
    });
  });
}

function machine(): Record<string, unknown> {
  const { host, cpu, cores, os, node } = benchMachine();
  return { hostname: host, cpu, cpus: cores, os, node };
}

async function main(): Promise<void> {
  const program = new Command()
    .option('--config <name>', 'tiny or small (default: both)')
    .option('--threads <n>', 'intra-op threads on both sides', '2')
    .option('--reps-scale <f>', 'multiply repetition counts', '1')
    .option('--rounds <n>', 'alternate engine and PyTorch this many times; best round counts', '2')
    .option('--no-reference', 'skip the PyTorch side')
    .option('--no-bf16', 'skip the engine run with bf16 GEMMs')
    .parse(process.argv);
  const opts = program.opts<{
    config?: string;
    threads: string;
    repsScale: string;
    rounds: string;
    reference: boolean;
    bf16: boolean;
  }>();
  const rounds = Math.max(1, Number(opts.rounds));
  const threads = Number(opts.threads);
  const repsScale = Number(opts.repsScale);
  const reps = (n: number): number => Math.max(1, Math.round(n * repsScale));
  const names = opts.config ? [opts.config] : Object.keys(CONFIGS);
  const rows: string[] = [
    '| config | workload | engine fp32 tok/s | PyTorch fp32 tok/s | fp32 ratio | engine bf16-GEMM tok/s | bf16 ratio |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const name of names) {
    if (!CONFIGS[name]) throw new Error(`unknown config ${name} (tiny or small)`);
    const ourRounds: SideResult[] = [];
    const bf16Rounds: SideResult[] = [];
    const referenceRounds: Array<SideResult & Record<string, unknown>> = [];
    for (let r = 0; r < rounds; r++) {
      ourRounds.push(await benchOurs(name, threads, reps, 'float32'));
      if (opts.bf16) bf16Rounds.push(await benchOurs(name, threads, reps, 'bfloat16'));
      if (opts.reference) referenceRounds.push(await benchReference(name, threads, repsScale));
    }
    const metrics = ['trainStepTokensPerS', 'generateTokensPerS', 'logprobsTokensPerS'] as const;
    const best = (side: SideResult[], key: (typeof metrics)[number]): number | undefined =>
      side.length ? Math.max(...side.map((x) => x[key])) : undefined;
    const ours: Record<string, number> = {};
    const oursBf16: Record<string, number> = {};
    const reference: Record<string, number> = {};
    const ratios: Record<string, number> = {};
    const ratiosBf16: Record<string, number> = {};
    const fmt = (v: number | undefined, digits = 0): string => (v === undefined ? '-' : v.toFixed(digits));
    for (const key of metrics) {
      ours[key] = best(ourRounds, key)!;
      const bf16 = best(bf16Rounds, key);
      if (bf16 !== undefined) oursBf16[key] = bf16;
      const theirs = best(referenceRounds, key);
      if (theirs !== undefined) {
        reference[key] = theirs;
        ratios[key] = ours[key] / theirs;
        if (bf16 !== undefined) ratiosBf16[key] = bf16 / theirs;
      }
      rows.push(
        `| ${name} | ${key.replace('TokensPerS', '')} | ${fmt(ours[key])} | ${fmt(theirs)} | ${fmt(ratios[key], 2)}x | ${fmt(bf16)} | ${fmt(ratiosBf16[key], 2)}x |`,
      );
    }
    const result = {
      config: name,
      modelConfig: CONFIGS[name],
      threads,
      date: new Date().toISOString(),
      machine: machine(),
      engine: { ...engineInfo(), threads },
      rounds,
      best: {
        engine: ours,
        engineBf16Gemm: opts.bf16 ? oursBf16 : null,
        pytorch: opts.reference ? reference : null,
      },
      ratios,
      ratiosBf16Gemm: ratiosBf16,
      engineRounds: ourRounds,
      engineBf16GemmRounds: bf16Rounds,
      pytorchRounds: referenceRounds,
    };
    const out = join(root, 'bench', 'results', `engine-${name}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.error(`wrote ${out}`);
  }
  console.log(rows.join('\n'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
