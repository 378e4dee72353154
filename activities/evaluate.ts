/**
 * evaluate: evaluates a checkpoint on the run's eval sets (k samples per problem at the eval temperature
 * and the full eval budget), writes runDir/evals/<name>/results.json (+ results.md, samples.jsonl.gz).
 * Inputs: EvaluateInput. Output: EvaluateResult (summary + FileRef of results.json).
 * Idempotent on (runDir, name): sampling seeds derive from the run seed and dataset position, and an
 * existing results.json for the same checkpoint hash is returned as is.
 * Heartbeat: {dataset, problemsDone, problems} per batch of prompts (host task queue).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { loadProblemSets } from '../eval/datasets';
import { RESULTS_JSON, readEvalResults, writeEvalResults } from '../eval/results';
import { templateText } from '../eval/templates';
import { DEFAULT_BEHAVIOUR_KEYWORDS } from '../siri/metrics';
import type { EvaluateInput, EvaluateResult } from '../workflows/activity-types';
import { fileRef } from '../training/files';
import { policyAt, withPolicyLock } from '../training/policy-host';
import { prefetchRollout } from './rollout';
import { evalName, readRunConfig, runPaths } from '../training/run-files';
import { tokenizerFor } from '../training/tokenizers';
import { aggregateEval, sampleAndGrade } from '../training/evaluation';

export async function evaluate(input: EvaluateInput): Promise<EvaluateResult> {
  const started = Date.now();
  const config = readRunConfig(input.runDir);
  const name = evalName(input.name, input.step);
  const dir = runPaths(input.runDir).evalDir(name);
  const resultsPath = join(dir, RESULTS_JSON);
  if (existsSync(resultsPath)) {
    const previous = await readEvalResults(resultsPath).catch(() => null);
    if (
      previous &&
      previous.model.path === input.checkpoint.path &&
      (previous.config.extra?.checkpointSha ?? '') === input.checkpoint.sha256
    ) {
      return { summary: previous.summary, resultsRef: await fileRef(resultsPath), wallMs: 0 };
    }
  }
  const sets = await loadProblemSets(config.eval.dataFiles, {
    problemField: config.eval.problemField,
    answerField: config.eval.answerField,
  });
  const tokenizer = await tokenizerFor(config.tokenizerDir ?? config.modelDir);
  const context = Context.current();
  const settings = {
    template: config.promptTemplate,
    samples: config.eval.samples,
    temperature: config.eval.temperature,
    topP: config.eval.topP,
    maxTokens: config.eval.maxTokens,
    seed: config.seed,
    kvCacheDtype: config.kvCacheDtype,
  };
  const samples = await withPolicyLock(
    async () => {
      const policy = await policyAt(input.runId, input.checkpoint, config.device, {
        computeDtype: config.computeDtype,
      });
      const perSet = [];
      for (const set of sets) {
        perSet.push(
          await sampleAndGrade(policy, tokenizer, set, settings, undefined, (p) => context.heartbeat(p)),
        );
      }
      return perSet;
    },
    () => context.heartbeat({ phase: 'waiting for the policy' }),
  );
  if (input.prefetchRollout && input.step >= 0) {
    // Queued behind the policy lock; the rollout activity of the next step adopts it.
    prefetchRollout({
      runId: input.runId,
      runDir: input.runDir,
      step: input.step + 1,
      shard: 0,
      maxTokens: input.prefetchRollout.maxTokens,
      checkpoint: input.checkpoint,
    });
  }
  const at = { step: input.step < 0 ? null : input.step, checkpointName: input.name };
  const { summary } = aggregateEval(sets, samples, at);
  const written = await writeEvalResults(dir, {
    label: input.name,
    model: { path: input.checkpoint.path, step: at.step, checkpointName: input.name },
    template: { name: config.promptTemplate, text: templateText(config.promptTemplate) },
    seed: config.seed,
    config: {
      dataFiles: config.eval.dataFiles,
      problemField: config.eval.problemField,
      answerField: config.eval.answerField,
      samples: config.eval.samples,
      temperature: config.eval.temperature,
      topP: config.eval.topP,
      maxTokens: config.eval.maxTokens,
      keywords: [...DEFAULT_BEHAVIOUR_KEYWORDS],
      extra: { checkpointSha: input.checkpoint.sha256, runId: input.runId, device: config.device },
    },
    summary,
    startedAt: new Date(started),
    samples: samples.flat(),
  });
  return { summary, resultsRef: written.results, wallMs: Date.now() - started };
}
