// Continuous batching in generate (issue #10) against the group-by-group schedule it replaces, on the
// toy base model (toy/base) with held-out prompts (toy/data/eval.jsonl) at temperature 1, where sample
// lengths vary a lot, and fewer decode slots than samples (maxBatch). Both schedules produce the same
// samples (checked here); what differs is how long the short samples' slots sit idle waiting for the
// longest sample of their group. On a CPU a decode step costs about in proportion to its rows, and the
// grouped schedule already drops finished rows, so the gain here is fewer steps' fixed costs and no idle
// rows; on a GPU, where a step costs about the same at any batch size, it is closer to the ratio of decode
// steps (also recorded). The machine is shared, so the two schedules run alternately for --rounds rounds
// and each one's best round counts. Writes bench/results/continuous-batching.json.
// Usage: npx tsx bench/continuous-batching.ts [--prompts 64] [--samples 8] [--slots 64] [--max-new 512]
//        [--threads 1] [--rounds 3]
import { benchMachine } from './machine';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Policy, PolicyTokenizer, type GenerateResult } from '../native';

const flag = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const setup = {
  prompts: flag('--prompts', 64),
  samplesPerPrompt: flag('--samples', 8),
  slots: flag('--slots', 64),
  maxNewTokens: flag('--max-new', 512),
  temperature: 1.0,
  seed: 1,
  threads: flag('--threads', 1),
  rounds: flag('--rounds', 3),
};
const root = join(import.meta.dirname, '..');
const modelDir = join(root, 'toy', 'base');

interface Round {
  wallMs: number;
  tokensPerS: number;
  /** Decode steps (progress events) and the mean number of samples still running per step. */
  decodeSteps: number;
  meanActive: number;
  /** Prefills that came while other samples were still decoding. */
  midDecodeAdmissions: number;
}

const tokenizer = await PolicyTokenizer.load(modelDir);
const prompts = readFileSync(join(root, 'toy', 'data', 'eval.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .slice(0, setup.prompts)
  .map((line) => tokenizer.encode((JSON.parse(line) as { problem: string }).problem));
const policy = await Policy.load(modelDir, { threads: setup.threads, optimizer: false });

async function run(continuousBatching: boolean): Promise<{ round: Round; samples: GenerateResult[] }> {
  let decodeSteps = 0;
  let activeSum = 0;
  let lastActive = 0;
  let midDecodeAdmissions = 0;
  const t0 = performance.now();
  const samples = await policy.generate(prompts, {
    samplesPerPrompt: setup.samplesPerPrompt,
    maxNewTokens: setup.maxNewTokens,
    temperature: setup.temperature,
    seed: setup.seed,
    stopTokenIds: [...tokenizer.eosTokenIds],
    maxBatch: setup.slots,
    continuousBatching,
    onProgress: (e) => {
      if (e.phase === 'decode') {
        decodeSteps += 1;
        activeSum += e.active;
        lastActive = e.active;
      } else if (e.phase === 'prefill' && lastActive > 0) {
        midDecodeAdmissions += 1;
      }
    },
  });
  const wallMs = performance.now() - t0;
  const tokens = samples.reduce((n, s) => n + s.length, 0);
  return {
    round: {
      wallMs,
      tokensPerS: (tokens * 1000) / wallMs,
      decodeSteps,
      meanActive: activeSum / Math.max(1, decodeSteps),
      midDecodeAdmissions,
    },
    samples,
  };
}

const rounds: Record<'continuous' | 'grouped', Round[]> = { continuous: [], grouped: [] };
let reference: GenerateResult[] | undefined;
let sameTokens = true;
for (let r = 0; r < setup.rounds; r++) {
  for (const side of ['continuous', 'grouped'] as const) {
    const { round, samples } = await run(side === 'continuous');
    rounds[side].push(round);
    reference ??= samples;
    sameTokens &&= samples.every(
      (s, i) => JSON.stringify(s.tokenIds) === JSON.stringify(reference![i]!.tokenIds),
    );
    console.log(
      `round ${r + 1} ${side.padEnd(10)} ${(round.wallMs / 1000).toFixed(2)} s, ${round.tokensPerS.toFixed(0)} tokens/s, ` +
        `${round.decodeSteps} decode steps, ${round.meanActive.toFixed(1)} running per step, ` +
        `${round.midDecodeAdmissions} mid-decode admissions`,
    );
  }
}
policy.dispose();

const lengths = reference!.map((s) => s.length).sort((a, b) => a - b);
const best = (side: keyof typeof rounds): Round => [...rounds[side]].sort((a, b) => a.wallMs - b.wallMs)[0]!;
const result = {
  benchmark: 'continuous-batching',
  date: new Date().toISOString(),
  machine: benchMachine(),
  model: 'toy/base',
  setup,
  samples: lengths.length,
  generatedTokens: lengths.reduce((a, b) => a + b, 0),
  sampleLength: {
    min: lengths[0],
    median: lengths[Math.floor(lengths.length / 2)],
    max: lengths.at(-1),
    atMaxNewTokens: lengths.filter((n) => n === setup.maxNewTokens).length,
  },
  sameTokens,
  best: { continuous: best('continuous'), grouped: best('grouped') },
  speedup: best('grouped').wallMs / best('continuous').wallMs,
  /** Decode steps grouped / continuous: the speedup where a step costs the same at any batch size (GPU). */
  decodeStepRatio: best('grouped').decodeSteps / best('continuous').decodeSteps,
  rounds,
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  join(import.meta.dirname, 'results', 'continuous-batching.json'),
  JSON.stringify(result, null, 2) + '\n',
);
console.log(
  `${result.samples} samples (${result.generatedTokens} tokens, lengths ${result.sampleLength.min}-${result.sampleLength.max}, ` +
    `median ${result.sampleLength.median}) in ${setup.slots} slots: continuous ${best('continuous').tokensPerS.toFixed(0)} ` +
    `tokens/s vs grouped ${best('grouped').tokensPerS.toFixed(0)} tokens/s = ${result.speedup.toFixed(2)}x (${result.decodeStepRatio.toFixed(2)}x fewer decode steps); same tokens: ${sameTokens}`,
);
