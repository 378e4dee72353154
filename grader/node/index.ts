// Node-side entry of the grader: the pure API of grader/index.ts with the wall-clock deadline switched on
// by default (performance.now, `timeoutMs` = 1,000 ms). Activities, the CLI and benchmarks import this;
// Temporal workflow code imports grader/index.ts, which is bounded by its deterministic step limit only.
import * as pure from '../index';
import type { Clock, GradeOptions, GradeResult } from '../index';

export type { Clock, GradeOptions, GradeReason, GradeResult, ThinkMode } from '../index';
export {
  extractAnswer,
  hasLoneSurrogate,
  DEFAULT_MAX_ANSWER_LENGTH,
  DEFAULT_MAX_RESPONSE_LENGTH,
} from '../index';

export const wallClock: Clock = () => performance.now();

export function gradeResponse(response: string, gold: string, options: GradeOptions = {}): GradeResult {
  return pure.gradeResponse(response, gold, { clock: wallClock, ...options });
}

export function isEquivalent(answer: string, gold: string, options: GradeOptions = {}): boolean {
  return pure.isEquivalent(answer, gold, { clock: wallClock, ...options });
}
