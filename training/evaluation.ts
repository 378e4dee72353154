// Evaluation of one checkpoint on problem sets: k samples per problem at the eval temperature, graded,
// aggregated per dataset (pass@1, pass@k, lengths, truncation, keywords, entropy). Shared by the
// training workflow's `evaluate` activity and `siri eval`.
import { gradeResponse } from '../grader/node';
import { aggregateDataset, summarizeEval, type SampleRecord, type StoredSample } from '../eval/results';
import type { ProblemSet } from '../eval/datasets';
import { renderPrompt, type TemplateName } from '../eval/templates';
import type { Policy } from '../native';
import type { DatasetEvalResult, EvalSummary } from '../workflows/types';
import { deriveSeed, SeedPurpose } from './seeds';
import type { RunTokenizer } from './tokenizers';

export interface EvalSettings {
  template: TemplateName;
  samples: number;
  temperature: number;
  topP: number;
  maxTokens: number;
  seed: number;
  /** Prompts generated together (all samples of a prompt stay together). */
  promptsPerBatch?: number;
  /** Also compute each response's mean token entropy (one extra forward pass). */
  withEntropy?: boolean;
  /** KV-cache storage of generate (default float32). */
  kvCacheDtype?: 'float32' | 'bfloat16';
}

export interface EvalProgress {
  dataset: string;
  problemsDone: number;
  problems: number;
}

/** Samples, grades and aggregates one problem set (or a slice of it: problems[from, to)). */
export async function sampleAndGrade(
  policy: Policy,
  tokenizer: RunTokenizer,
  set: ProblemSet,
  settings: EvalSettings,
  range: { from: number; to: number } = { from: 0, to: set.problems.length },
  onProgress?: (p: EvalProgress) => void,
): Promise<StoredSample[]> {
  const out: StoredSample[] = [];
  const perBatch = settings.promptsPerBatch ?? 16;
  for (let start = range.from; start < range.to; start += perBatch) {
    const problems = set.problems.slice(start, Math.min(range.to, start + perBatch));
    const prompts = problems.map((p) => tokenizer.encode(renderPrompt(settings.template, p.problem)));
    const generated = await policy.generate(prompts, {
      samplesPerPrompt: settings.samples,
      maxNewTokens: settings.maxTokens,
      temperature: settings.temperature,
      topP: settings.topP,
      // One seed per (dataset position): re-running a shard reproduces it exactly.
      seed: deriveSeed(settings.seed, SeedPurpose.evaluate, start, hashName(set.name)),
      stopTokenIds: tokenizer.stopTokenIds,
      kvCacheDtype: settings.kvCacheDtype ?? 'float32',
    });
    let entropies: (number | null)[] = generated.map(() => null);
    if (settings.withEntropy ?? true) {
      const sequences = generated.map((g) => [...(prompts[g.promptIndex] ?? []), ...g.tokenIds]);
      const masks = generated.map((g) => [
        ...(prompts[g.promptIndex] ?? []).map(() => 0),
        ...Array.from(g.tokenIds, () => 1),
      ]);
      const scored = await policy.logprobs(sequences, masks, { temperature: 1 });
      entropies = scored.entropies.map((row, i) => meanOverMask(row, masks[i] ?? []));
    }
    generated.forEach((g, i) => {
      const problem = problems[g.promptIndex];
      if (!problem) return;
      const text = tokenizer.decode(Array.from(g.tokenIds));
      const verdict = gradeResponse(text, problem.answer);
      out.push({
        dataset: set.name,
        problemId: problem.id,
        problemIndex: problem.index,
        sampleIndex: g.sampleIndex,
        correct: verdict.correct,
        length: g.tokenIds.length,
        truncated: g.finishReason === 'length',
        text,
        entropy: entropies[i] ?? null,
        extractedAnswer: verdict.extracted,
      });
    });
    onProgress?.({
      dataset: set.name,
      problemsDone: Math.min(range.to, start + perBatch) - range.from,
      problems: range.to - range.from,
    });
  }
  return out;
}

/** Per-dataset aggregation of graded samples, and the summary across datasets. */
export function aggregateEval(
  sets: readonly ProblemSet[],
  samples: readonly SampleRecord[][],
  at: { step: number | null; checkpointName: string | null },
): { datasets: DatasetEvalResult[]; summary: EvalSummary } {
  const datasets = sets.map((set, i) =>
    aggregateDataset(samples[i] ?? [], {
      name: set.name,
      file: set.file,
      skipped: set.skipped.length,
      problems: set.problems.length,
    }),
  );
  return { datasets, summary: summarizeEval(datasets, at) };
}

function meanOverMask(values: ArrayLike<number>, mask: readonly number[]): number | null {
  let sum = 0;
  let n = 0;
  for (let t = 0; t < mask.length; t++) {
    if (mask[t]) {
      sum += values[t] ?? 0;
      n++;
    }
  }
  return n > 0 ? sum / n : null;
}

function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}
