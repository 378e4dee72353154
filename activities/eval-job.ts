/**
 * The activities of `siri eval` (workflows/evaluation.ts):
 * - planEval: loads the problem sets and cuts them into shards of job.shardSize problems.
 * - evalShard: samples and grades one shard with the policy held by this worker, writing
 *   outDir/shards/<set>-<from>.json.gz atomically. Idempotent: an existing shard file is returned as is;
 *   sampling seeds derive from (seed, dataset position), so a redone shard is identical.
 *   Heartbeat: {dataset, problemsDone, problems}.
 * - aggregateEvalShards: per-dataset metrics over every shard; writes results.json, results.md and
 *   samples.jsonl.gz (eval/results.ts). Idempotent (rewrites the same files).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { loadProblemSets, type ProblemSet } from '../eval/datasets';
import { writeEvalResults, type StoredSample } from '../eval/results';
import { templateText } from '../eval/templates';
import { DEFAULT_BEHAVIOUR_KEYWORDS } from '../siri/metrics';
import type { EvalJobInput, EvalPlan, EvalShardInput } from '../workflows/activity-types';
import type { EvalSummary } from '../workflows/types';
import { aggregateEval, sampleAndGrade } from '../training/evaluation';
import { atomicWriteFile, sha256Bytes } from '../training/files';
import { tokenizerFor } from '../training/tokenizers';
import { policyAt, withPolicyLock } from '../training/policy-host';
import { checkpointRef } from '../training/checkpoints';
import { MANIFEST_FILE } from '../native/checkpoint';

async function loadSets(job: EvalJobInput): Promise<ProblemSet[]> {
  try {
    return await loadProblemSets(job.dataFiles, {
      problemField: job.problemField,
      answerField: job.answerField,
    });
  } catch (err) {
    throw ApplicationFailure.create({
      message: String(err instanceof Error ? err.message : err),
      type: 'InvalidRunInput',
      nonRetryable: true,
    });
  }
}

function shardPath(job: EvalJobInput, dataset: number, set: ProblemSet, from: number): string {
  return join(job.outDir, 'shards', `${dataset}-${set.name}-${String(from).padStart(6, '0')}.json.gz`);
}

export async function planEval(job: EvalJobInput): Promise<EvalPlan> {
  const sets = await loadSets(job);
  const shards: EvalShardInput[] = [];
  sets.forEach((set, dataset) => {
    for (let from = 0; from < set.problems.length; from += job.shardSize) {
      shards.push({ job, dataset, from, to: Math.min(set.problems.length, from + job.shardSize) });
    }
  });
  return { shards, problems: sets.map((s) => s.problems.length), skipped: sets.map((s) => s.skipped.length) };
}

/** The model as a checkpoint ref for the worker's policy cache (a plain HF dir gets a content key). */
function modelRef(modelDir: string): { ref: Parameters<typeof policyAt>[1]; plain: boolean } {
  if (existsSync(join(modelDir, MANIFEST_FILE))) return { ref: checkpointRef(modelDir, 0), plain: false };
  const key = sha256Bytes(readFileSync(join(modelDir, 'config.json'), 'utf8') + modelDir);
  return { ref: { path: modelDir, sha256: key, bytes: 0, step: 0 }, plain: true };
}

export async function evalShard(shard: EvalShardInput): Promise<{ samples: number }> {
  const { job } = shard;
  const sets = await loadSets(job);
  const set = sets[shard.dataset];
  if (!set)
    throw ApplicationFailure.create({
      message: `no dataset ${shard.dataset}`,
      type: 'InvalidRunInput',
      nonRetryable: true,
    });
  const path = shardPath(job, shard.dataset, set, shard.from);
  if (existsSync(path))
    return { samples: (JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as unknown[]).length };
  const tokenizer = await tokenizerFor(job.modelDir);
  const context = Context.current();
  const samples = await withPolicyLock(
    async () => {
      const model = modelRef(job.modelDir);
      const policy = await policyAt(`eval:${job.modelDir}`, model.ref, job.device, {
        plainModelDir: model.plain,
      });
      return sampleAndGrade(
        policy,
        tokenizer,
        set,
        {
          template: job.template,
          samples: job.samples,
          temperature: job.temperature,
          topP: job.topP,
          maxTokens: job.maxTokens,
          seed: job.seed,
        },
        { from: shard.from, to: shard.to },
        (p) => context.heartbeat(p),
      );
    },
    () => context.heartbeat({ phase: 'waiting for the policy' }),
  );
  atomicWriteFile(path, gzipSync(JSON.stringify(samples)));
  return { samples: samples.length };
}

export async function aggregateEvalShards(job: EvalJobInput): Promise<EvalSummary> {
  const sets = await loadSets(job);
  const perSet: StoredSample[][] = sets.map((set, dataset) => {
    const out: StoredSample[] = [];
    for (let from = 0; from < set.problems.length; from += job.shardSize) {
      const path = shardPath(job, dataset, set, from);
      out.push(...(JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as StoredSample[]));
    }
    return out;
  });
  const { summary } = aggregateEval(sets, perSet, { step: null, checkpointName: null });
  await writeEvalResults(job.outDir, {
    label: job.label,
    model: { path: job.modelDir, step: null, checkpointName: null },
    template: { name: job.template, text: templateText(job.template) },
    seed: job.seed,
    config: {
      dataFiles: job.dataFiles,
      problemField: job.problemField,
      answerField: job.answerField,
      samples: job.samples,
      temperature: job.temperature,
      topP: job.topP,
      maxTokens: job.maxTokens,
      keywords: [...DEFAULT_BEHAVIOUR_KEYWORDS],
      extra: { shardSize: job.shardSize, device: job.device },
    },
    summary,
    samples: perSet.flat(),
  });
  return summary;
}
