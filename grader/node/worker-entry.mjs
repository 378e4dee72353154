// Entry file of a grading worker thread: registers tsx in this thread (loader hooks are per thread in
// Node 20) and then loads the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
