// Measures a toy policy the way the paper evaluates: k samples per held-out problem at temperature 0.6
// with a generous token budget, graded by the project's grader; then the length distribution and, for
// candidate budgets L, the share of responses L would truncate and the accuracy left under L. Used to
// choose the toy's lMax/lMin (docs/toy.md) and to describe the base checkpoint.
import { gradeResponse } from '../grader/index';
import type { Policy } from '../native/index';
import type { Problem } from './problems';
import { toyPromptIds } from './sft';
import type { ToyTokenizer } from './tokenizer';

export interface MeasureOptions {
  samples: number;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  seed: number;
  /** Budgets to report truncation and accuracy for. */
  budgets: readonly number[];
  maxBatch?: number;
}

export interface SampleRecord {
  problem: number;
  /** Response tokens including the EOS when it stopped. */
  length: number;
  stopped: boolean;
  correct: boolean;
  /** Re-check openers in the response ("Wait", "Hold on", "Alternatively", "Let me check"; a missed try of toy/search.ts). */
  rechecks: number;
  /** Occurrences of the word "Wait". */
  waits: number;
  text: string;
}

export interface BudgetRow {
  budget: number;
  /** Share of responses longer than the budget (they would be cut off: no answer). */
  truncated: number;
  /** Accuracy when responses longer than the budget count as wrong. */
  accuracy: number;
}

export interface MeasureSummary {
  problems: number;
  samples: number;
  accuracy: number;
  /** Responses that hit maxNewTokens. */
  hitLimit: number;
  meanLength: number;
  percentiles: Record<string, number>;
  maxLength: number;
  budgets: BudgetRow[];
  meanRechecks: number;
  meanWaits: { correct: number; incorrect: number };
  accuracyBySteps: Record<string, number>;
  /** Accuracy of responses grouped by how many re-checks they wrote (0, 1-2, 3-4, 5+): is verification useful? */
  accuracyByRechecks: Record<string, { responses: number; accuracy: number }>;
  /** Responses that corrected themselves (", not N" / "I made a mistake"), and how many of those ended right. */
  selfCorrections: { responses: number; correct: number };
}

const recheckBucket = (n: number): string => (n === 0 ? '0' : n <= 2 ? '1-2' : n <= 4 ? '3-4' : '5+');
const SELF_CORRECTION = /, not \d+|I made a mistake/;

const RECHECK_OPENERS =
  /Wait, let me verify|Hold on, let me recompute|Alternatively,|Wait, let me go over it again|Let me check everything once more|Wait, \d+ is (?:less|more) than/g;

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

const mean = (xs: readonly number[]): number =>
  xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;

export async function sampleAndGrade(
  policy: Policy,
  tokenizer: ToyTokenizer,
  problems: readonly Problem[],
  options: MeasureOptions,
): Promise<SampleRecord[]> {
  const results = await policy.generate(
    problems.map((p) => toyPromptIds(tokenizer, p.problem)),
    {
      samplesPerPrompt: options.samples,
      maxNewTokens: options.maxNewTokens,
      temperature: options.temperature,
      topP: options.topP,
      seed: options.seed,
      stopTokenIds: [tokenizer.eosId],
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
    },
  );
  return results.map((r) => {
    const text = tokenizer.decode(r.tokenIds);
    const problem = problems[r.promptIndex] as Problem;
    return {
      problem: r.promptIndex,
      length: r.length,
      stopped: r.finishReason === 'stop',
      // A response cut off by the limit gets no credit, whatever it holds.
      correct: r.finishReason === 'stop' && gradeResponse(text, problem.answer).correct,
      rechecks: (text.match(RECHECK_OPENERS) ?? []).length,
      waits: (text.match(/\bWait\b/g) ?? []).length,
      text,
    };
  });
}

export function summarize(
  records: readonly SampleRecord[],
  problems: readonly Problem[],
  budgets: readonly number[],
): MeasureSummary {
  const lengths = records.map((r) => r.length).sort((a, b) => a - b);
  const bySteps: Record<string, number[]> = {};
  for (const r of records) {
    const steps = String((problems[r.problem] as Problem).steps.length);
    (bySteps[steps] ??= []).push(r.correct ? 1 : 0);
  }
  return {
    problems: problems.length,
    samples: records.length,
    accuracy: mean(records.map((r) => (r.correct ? 1 : 0))),
    hitLimit: records.filter((r) => !r.stopped).length / Math.max(1, records.length),
    meanLength: mean(lengths),
    percentiles: Object.fromEntries(
      [10, 25, 50, 75, 90, 95, 99].map((q) => [`p${q}`, percentile(lengths, q / 100)]),
    ),
    maxLength: lengths[lengths.length - 1] ?? 0,
    budgets: budgets.map((budget) => ({
      budget,
      truncated: records.filter((r) => !r.stopped || r.length > budget).length / Math.max(1, records.length),
      accuracy: records.filter((r) => r.correct && r.length <= budget).length / Math.max(1, records.length),
    })),
    meanRechecks: mean(records.map((r) => r.rechecks)),
    meanWaits: {
      correct: mean(records.filter((r) => r.correct).map((r) => r.waits)),
      incorrect: mean(records.filter((r) => !r.correct).map((r) => r.waits)),
    },
    accuracyBySteps: Object.fromEntries(Object.entries(bySteps).map(([k, v]) => [k, mean(v)])),
    accuracyByRechecks: Object.fromEntries(
      ['0', '1-2', '3-4', '5+'].map((bucket) => {
        const group = records.filter((r) => recheckBucket(r.rechecks) === bucket);
        return [bucket, { responses: group.length, accuracy: mean(group.map((r) => (r.correct ? 1 : 0))) }];
      }),
    ),
    selfCorrections: {
      responses: records.filter((r) => SELF_CORRECTION.test(r.text)).length,
      correct: records.filter((r) => r.correct && SELF_CORRECTION.test(r.text)).length,
    },
  };
}
