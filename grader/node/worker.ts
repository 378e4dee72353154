// worker_threads side of the grading pool: grades batches of [response, gold] pairs with the options
// given at start-up and posts the results back in the same order.
import { parentPort, workerData } from 'node:worker_threads';
import { gradeResponse, type GradeOptions, type GradeResult } from './index';

export interface BatchRequest {
  batch: number;
  cases: [response: string, gold: string][];
}

export interface BatchReply {
  batch: number;
  results: GradeResult[];
}

const options = (workerData as { options?: GradeOptions } | undefined)?.options ?? {};

parentPort?.on('message', (request: BatchRequest) => {
  const results = request.cases.map(([response, gold]) => gradeResponse(response, gold, options));
  parentPort?.postMessage({ batch: request.batch, results } satisfies BatchReply);
});
