// Names shared by the client, the worker and the workflows: one place, no repeated literals.
export const DEFAULT_NAMESPACE = 'default';
/** The shared task queue: workflows and light activities (grading, bookkeeping). */
export const SHARED_TASK_QUEUE = 'siri';
export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_UI_PORT = 8233;
