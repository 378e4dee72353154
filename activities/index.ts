// Barrel of every activity the worker registers; workflows import it with `import type` only.
export { engineProbe } from './engine-probe';
