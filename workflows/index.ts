// Every workflow the siri worker hosts; the worker bundles this file (no Node APIs below this point).
export { healthCheck } from './health';
export { siriTraining } from './training';
export { siriEval } from './evaluation';
export { siriExperiment } from './experiment';
