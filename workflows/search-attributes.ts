// The custom search attributes siri sets on training runs, so runs can be listed and filtered in the
// Temporal Web UI. The dev server's SQLite store allows at most 3 Int, 3 Double and 10 Keyword
// attributes per namespace: keep within those limits. `siri server` registers these on every start.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const SiriStep = defineSearchAttributeKey('SiriStep', SearchAttributeType.INT);
export const SiriIteration = defineSearchAttributeKey('SiriIteration', SearchAttributeType.INT);
export const SiriMaxTokens = defineSearchAttributeKey('SiriMaxTokens', SearchAttributeType.INT);
export const SiriAccuracy = defineSearchAttributeKey('SiriAccuracy', SearchAttributeType.DOUBLE);
export const SiriMeanLength = defineSearchAttributeKey('SiriMeanLength', SearchAttributeType.DOUBLE);
export const SiriReward = defineSearchAttributeKey('SiriReward', SearchAttributeType.DOUBLE);
export const SiriPhase = defineSearchAttributeKey('SiriPhase', SearchAttributeType.KEYWORD);
export const SiriRunId = defineSearchAttributeKey('SiriRunId', SearchAttributeType.KEYWORD);
export const SiriScheduler = defineSearchAttributeKey('SiriScheduler', SearchAttributeType.KEYWORD);
export const SiriKind = defineSearchAttributeKey('SiriKind', SearchAttributeType.KEYWORD);

/** Every attribute siri uses, by name → type; the server registration and tests read this list. */
export const SIRI_SEARCH_ATTRIBUTES = [
  SiriStep,
  SiriIteration,
  SiriMaxTokens,
  SiriAccuracy,
  SiriMeanLength,
  SiriReward,
  SiriPhase,
  SiriRunId,
  SiriScheduler,
  SiriKind,
] as const;
