// Activation checkpointing: peak memory and time of one trainStep on a long sequence, with the layers'
// activations kept (the default) and with them recomputed in the backward (`activationCheckpointing`),
// side by side in one run. Each variant runs in its own process, so its peak RSS (VmHWM) is its own;
// the figure is the growth of the peak during a step taken after the optimizer state exists.
// Usage: node --import tsx bench/activation-checkpointing.ts [--tokens 4096]
import { execFileSync } from 'node:child_process';
import { benchMachine } from './machine';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Policy } from '../native';

const flag = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const tokens = flag('--tokens', 4096);
// A Qwen2 with the 1.5B model's head layout (12 q / 2 kv heads of 128) at a tenth of its width and depth.
const config = {
  vocab_size: 4096,
  hidden_size: 1536,
  intermediate_size: 2048,
  num_hidden_layers: 6,
  num_attention_heads: 12,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  rope_theta: 10000.0,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: false,
};

function peakRssMiB(): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) / 1024;
}

if (process.argv.includes('--child')) {
  const checkpointing = process.argv.includes('--checkpointing');
  const policy = await Policy.init(config, { seed: 1, threads: cpus().length });
  const ids = Array.from({ length: tokens }, (_, i) => (i * 7919) % config.vocab_size);
  const batch = {
    sequences: [ids],
    responseMask: [ids.map((_, i) => (i < 64 ? 0 : 1))],
    advantages: [1],
  };
  // A short warm-up step allocates the gradients and AdamW state first, so the measured step's growth
  // in peak RSS is its activations.
  await policy.trainStep(
    { sequences: [ids.slice(0, 128)], responseMask: [batch.responseMask[0]!.slice(0, 128)], advantages: [1] },
    { loss: 'grpo', lossAggregation: 'token-mean', lr: 1e-6, microBatchTokens: tokens },
  );
  const before = peakRssMiB();
  const t0 = performance.now();
  const result = await policy.trainStep(batch, {
    loss: 'grpo',
    lossAggregation: 'token-mean',
    lr: 1e-6,
    microBatchTokens: tokens,
    activationCheckpointing: checkpointing,
  });
  const ms = performance.now() - t0;
  console.log(
    JSON.stringify({ checkpointing, ms, peakRssMiB: peakRssMiB(), beforeStepMiB: before, loss: result.loss }),
  );
  policy.dispose();
} else {
  const run = (extra: string[]): { ms: number; peakRssMiB: number; beforeStepMiB: number; loss: number } =>
    JSON.parse(
      execFileSync(
        process.execPath,
        ['--import', 'tsx', import.meta.filename, '--child', '--tokens', String(tokens), ...extra],
        { encoding: 'utf8' },
      ).trim(),
    );
  const kept = run([]);
  const recomputed = run(['--checkpointing']);
  const stepPeak = (r: typeof kept): number => r.peakRssMiB - r.beforeStepMiB;
  const result = {
    benchmark: 'activation-checkpointing',
    date: new Date().toISOString(),
    machine: benchMachine(),
    model: config,
    tokens,
    kept,
    recomputed,
    stepPeakRatio: stepPeak(kept) / Math.max(1, stepPeak(recomputed)),
    timeRatio: recomputed.ms / kept.ms,
    sameLoss: kept.loss === recomputed.loss,
  };
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    join(import.meta.dirname, 'results', 'activation-checkpointing.json'),
    JSON.stringify(result, null, 2) + '\n',
  );
  console.log(
    `${tokens} tokens: peak RSS growth during the step ${stepPeak(kept).toFixed(0)} MiB kept vs ${stepPeak(recomputed).toFixed(0)} MiB recomputed (${result.stepPeakRatio.toFixed(2)}× less), time ${result.timeRatio.toFixed(2)}×, same loss: ${result.sameLoss}`,
  );
}
