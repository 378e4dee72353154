// A worker_threads pool for grading many cases: batches go to whichever worker is free and results come
// back in submission order. One worker (or fewer than two cases) grades in this thread instead.
import { Worker } from 'node:worker_threads';
import { gradeResponse, type GradeOptions, type GradeResult } from './index';
import type { BatchReply, BatchRequest } from './worker';

export interface GradeCase {
  response: string;
  gold: string;
}

export class GraderPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (r: GradeResult[]) => void; reject: (e: Error) => void }
  >();
  private nextBatch = 0;
  private failure: Error | null = null;
  private closing = false;

  constructor(
    readonly size: number,
    private readonly options: GradeOptions = {},
  ) {
    if (size > 1) {
      for (let i = 0; i < size; i++) this.spawn();
    }
  }

  private spawn(): void {
    // Functions cannot cross threads: each worker uses its own wall clock (grader/node/index.ts).
    const { clock: _clock, ...plain } = this.options;
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { options: plain },
    });
    worker.on('message', (reply: BatchReply) => {
      const entry = this.pending.get(reply.batch);
      this.pending.delete(reply.batch);
      this.release(worker);
      entry?.resolve(reply.results);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (code !== 0 && !this.closing && this.failure === null)
        this.fail(new Error(`grading worker exited with code ${code}`));
    });
    this.workers.push(worker);
    this.idle.push(worker);
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const entry of this.pending.values()) entry.reject(err);
    this.pending.clear();
    for (const wake of this.waiting.splice(0)) wake();
  }

  private release(worker: Worker): void {
    this.idle.push(worker);
    this.waiting.shift()?.();
  }

  private async acquire(): Promise<Worker> {
    for (;;) {
      if (this.failure) throw this.failure;
      const worker = this.idle.pop();
      if (worker) return worker;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** Grades one batch; batches submitted concurrently run on different workers. */
  async gradeBatch(cases: GradeCase[]): Promise<GradeResult[]> {
    if (this.size <= 1) return cases.map((c) => gradeResponse(c.response, c.gold, this.options));
    const worker = await this.acquire();
    const batch = this.nextBatch++;
    return new Promise<GradeResult[]>((resolve, reject) => {
      this.pending.set(batch, { resolve, reject });
      const request: BatchRequest = { batch, cases: cases.map((c) => [c.response, c.gold]) };
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
