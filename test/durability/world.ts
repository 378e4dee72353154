// A small training world for the durability tests: the committed toy base model, toy problems, and a
// run config small enough that a whole run takes seconds on a CPU.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { projectRoot } from '../helpers/temporal';

/** The base model: the committed toy/base, or $SIRI_TEST_TOY_BASE (to test a candidate base). */
export const TOY_BASE = process.env.SIRI_TEST_TOY_BASE ?? join(projectRoot, 'toy', 'base');

export interface World {
  dir: string;
  configPath: (overrides?: Record<string, unknown>) => string;
}

/** Writes problems and a config into `dir`. */
export async function makeWorld(dir: string): Promise<World> {
  const { generateProblems } = await import('../../toy/problems');
  const train = generateProblems({ seed: 11, count: 16, split: 'train' });
  const evalSet = generateProblems({ seed: 12, count: 4, split: 'eval' });
  const jsonl = (rows: { problem: string; answer: string }[]): string =>
    rows.map((p) => JSON.stringify({ problem: p.problem, answer: p.answer })).join('\n') + '\n';
  writeFileSync(join(dir, 'train.jsonl'), jsonl(train));
  writeFileSync(join(dir, 'eval.jsonl'), jsonl(evalSet));
  let n = 0;
  return {
    dir,
    configPath: (overrides = {}) => {
      const config = {
        preset: 'toy',
        modelDir: TOY_BASE,
        runDir: join(dir, 'runs'),
        trainData: { files: [join(dir, 'train.jsonl')] },
        schedule: { kind: 'cosine', lMax: 256, lMin: 128, cycle: 4 },
        totalSteps: 4,
        groupSize: 4,
        batchPrompts: 2,
        lr: 1e-4,
        eval: {
          everySteps: 100,
          samples: 2,
          temperature: 0.6,
          topP: 0.95,
          maxTokens: 256,
          dataFiles: [join(dir, 'eval.jsonl')],
        },
        checkpoint: { everySteps: 100, keepLast: 2 },
        seed: 5,
        ...overrides,
      };
      const path = join(dir, `config-${++n}.json`);
      writeFileSync(path, JSON.stringify(config, null, 2));
      return path;
    },
  };
}

export function worldAvailable(): boolean {
  return existsSync(join(TOY_BASE, 'model.safetensors'));
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
