// The math answer grader: the reward of every rollout and every evaluation number goes through
// gradeResponse. Pure, synchronous and deterministic; no Node APIs, so Temporal workflow code may import it.
//
//   gradeResponse(response, gold)  → { correct, extracted, reason }
//   extractAnswer(response)        → the final answer text (last \boxed{…} after </think>) or null
//   isEquivalent(answer, gold)     → whether two answer strings are the same mathematical object
//
// Bounds (all overridable through GradeOptions): a response longer than 2,000,000 characters or an
// answer/gold longer than 2,000 characters is refused; parsing and evaluation stop at 2,000,000 steps
// (deterministic; well under 1 s), at nesting depth 200, or after `timeoutMs` (1,000 ms) by `clock` when a
// clock is given — grader/node/index.ts gives performance.now; pure code has no clock. The grade is then
// `correct: false` with reason 'timeout' / 'too-deep'. See grader/README.md for the rules and sources.
import { Budget, DEFAULT_LIMITS, GradeAbort, type BudgetLimits, type Clock } from './budget';
import { compareAnswers } from './equivalence';
import { DEFAULT_EXTRACT, extractFinalAnswer, type ExtractOptions } from './extract';

export type { ThinkMode } from './extract';
export type { Clock } from './budget';

export interface GradeOptions extends Partial<ExtractOptions>, Partial<BudgetLimits> {
  /** Longest response accepted, in UTF-16 code units (default 2,000,000). */
  maxResponseLength?: number;
  /** Longest extracted answer or gold accepted (default 2,000). */
  maxAnswerLength?: number;
  /** Milliseconds clock for the `timeoutMs` deadline; without one only the step limit applies. */
  clock?: Clock;
}

export type GradeReason =
  | 'match'
  | 'mismatch'
  | 'no-answer'
  | 'unclosed-think'
  | 'unbalanced-braces'
  | 'unparsable-answer'
  | 'unparsable-gold'
  | 'timeout'
  | 'too-deep'
  | 'too-large'
  | 'input-too-large'
  | 'answer-too-large'
  | 'gold-too-large'
  | 'invalid-utf16'
  | 'invalid-input'
  | 'internal-error';

export interface GradeResult {
  correct: boolean;
  /** The extracted final answer (cut to 200 characters when it was refused as too large), or null. */
  extracted: string | null;
  reason: GradeReason;
}

export const DEFAULT_MAX_RESPONSE_LENGTH = 2_000_000;
export const DEFAULT_MAX_ANSWER_LENGTH = 2_000;

function limitsOf(options: GradeOptions): BudgetLimits {
  return {
    timeoutMs: options.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
    maxSteps: options.maxSteps ?? DEFAULT_LIMITS.maxSteps,
    maxDepth: options.maxDepth ?? DEFAULT_LIMITS.maxDepth,
  };
}

function extractOptionsOf(options: GradeOptions): ExtractOptions {
  return {
    think: options.think ?? DEFAULT_EXTRACT.think,
    boxed: options.boxed ?? DEFAULT_EXTRACT.boxed,
    answerIs: options.answerIs ?? DEFAULT_EXTRACT.answerIs,
    hashes: options.hashes ?? DEFAULT_EXTRACT.hashes,
    lastLine: options.lastLine ?? DEFAULT_EXTRACT.lastLine,
  };
}

/** True when the string has an unpaired UTF-16 surrogate (invalid text). */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return true;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/** Maps anything thrown inside a grade to its reason; nothing escapes gradeResponse. */
function abortReason(err: unknown): GradeReason {
  if (err instanceof GradeAbort) return err.reason;
  if (err instanceof RangeError && /call stack/i.test(err.message)) return 'too-deep';
  return 'internal-error';
}

/** The final answer of a response per the extraction options, or null when it has none. */
export function extractAnswer(response: string, options: GradeOptions = {}): string | null {
  if (
    typeof response !== 'string' ||
    response.length > (options.maxResponseLength ?? DEFAULT_MAX_RESPONSE_LENGTH)
  ) {
    return null;
  }
  try {
    return extractFinalAnswer(
      response,
      extractOptionsOf(options),
      new Budget(limitsOf(options), options.clock ?? null),
    ).answer;
  } catch {
    return null;
  }
}

/** Whether `answer` is the same mathematical object as `gold` (both bare answers, no extraction). */
export function isEquivalent(answer: string, gold: string, options: GradeOptions = {}): boolean {
  const maxAnswer = options.maxAnswerLength ?? DEFAULT_MAX_ANSWER_LENGTH;
  if (typeof answer !== 'string' || typeof gold !== 'string') return false;
  if (answer.length > maxAnswer || gold.length > maxAnswer) return false;
  if (hasLoneSurrogate(answer) || hasLoneSurrogate(gold)) return false;
  try {
    return compareAnswers(answer, gold, new Budget(limitsOf(options), options.clock ?? null)).equal;
  } catch {
    return false;
  }
}

/** Grades one response against its gold answer. Never throws; always returns within the budget. */
export function gradeResponse(response: string, gold: string, options: GradeOptions = {}): GradeResult {
  if (typeof response !== 'string' || typeof gold !== 'string') {
    return { correct: false, extracted: null, reason: 'invalid-input' };
  }
  if (response.length > (options.maxResponseLength ?? DEFAULT_MAX_RESPONSE_LENGTH)) {
    return { correct: false, extracted: null, reason: 'input-too-large' };
  }
  const maxAnswer = options.maxAnswerLength ?? DEFAULT_MAX_ANSWER_LENGTH;
  const budget = new Budget(limitsOf(options), options.clock ?? null);
  let extracted: string | null = null;
  try {
    const extraction = extractFinalAnswer(response, extractOptionsOf(options), budget);
    if (extraction.answer === null) {
      return {
        correct: false,
        extracted: null,
        reason: extraction.reason === 'found' ? 'no-answer' : extraction.reason,
      };
    }
    extracted = extraction.answer;
    if (extracted.length > maxAnswer) {
      return { correct: false, extracted: extracted.slice(0, 200), reason: 'answer-too-large' };
    }
    if (hasLoneSurrogate(extracted))
      return { correct: false, extracted: toWellFormed(extracted), reason: 'invalid-utf16' };
    if (gold.length > maxAnswer) return { correct: false, extracted, reason: 'gold-too-large' };
    if (hasLoneSurrogate(gold)) return { correct: false, extracted, reason: 'invalid-utf16' };
    const verdict = compareAnswers(extracted, gold, budget);
    return { correct: verdict.equal, extracted, reason: verdict.reason };
  } catch (err) {
    const shown = extracted === null ? null : extracted.slice(0, 200);
    return {
      correct: false,
      extracted: shown === null ? null : toWellFormed(shown),
      reason: abortReason(err),
    };
  }
}

/** Replaces unpaired surrogates with U+FFFD so the extracted text can be written as JSON/UTF-8. */
export function toWellFormed(s: string): string {
  if (!hasLoneSurrogate(s)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\ufffd';
    else out += s[i];
  }
  return out;
}
