// Barrel of every activity the worker registers; workflows import it with `import type` only.
export { engineProbe } from './engine-probe';
export { acquireHost } from './acquire-host';
export { prepareRun } from './prepare-run';
export { rollout } from './rollout';
export { reward } from './reward';
export { update } from './update';
export { evaluate } from './evaluate';
export { recordStep, recordWarning } from './record-step';
export { planEval, evalShard, aggregateEvalShards } from './eval-job';
export { buildExperimentReport } from './report';
