// The training problems of a run (loaded once per worker and cached) and their prompts.
import { loadProblemSets, type Problem } from '../eval/datasets';
import { renderPrompt, type TemplateName } from '../eval/templates';
import type { RunConfig } from '../siri/config';

export interface TrainProblem extends Problem {
  /** Source file of the problem. */
  file: string;
}

const cache = new Map<string, Promise<TrainProblem[]>>();

/** Every training problem of the config's train files, in file order. */
export function trainProblems(config: RunConfig): Promise<TrainProblem[]> {
  const key = JSON.stringify(config.trainData);
  let loaded = cache.get(key);
  if (!loaded) {
    loaded = loadProblemSets(config.trainData.files, {
      problemField: config.trainData.problemField,
      answerField: config.trainData.answerField,
    }).then((sets) => sets.flatMap((set) => set.problems.map((p) => ({ ...p, file: set.file }))));
    loaded.catch(() => cache.delete(key));
    cache.set(key, loaded);
  }
  return loaded;
}

export function promptText(template: TemplateName, problem: string): string {
  return renderPrompt(template, problem);
}
