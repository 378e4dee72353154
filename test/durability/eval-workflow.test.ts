// `siri eval` end to end on a real server and worker: sharded over problems, every number in
// results.json recomputed from the stored samples, and a re-run with the same seed reproduces the
// samples exactly (a crashed shard would be redone identically).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { gradeResponse } from '../../grader';
import { passAt1 } from '../../siri/metrics';
import {
  projectRoot,
  run,
  siriBin,
  spawnWorker,
  startTestServer,
  tempDir,
  type TestServer,
  type WorkerProcess,
} from '../helpers/temporal';

const MODEL = join(projectRoot, 'test', 'fixtures', 'engine', 'tied', 'model');

describe('siri eval workflow', { timeout: 300_000 }, () => {
  let server: TestServer;
  let worker: WorkerProcess;
  let dir: string;
  before(async () => {
    dir = tempDir('eval');
    // Problems whose gold answers some samples will hit: the WordLevel fixture vocabulary has no \boxed,
    // so every sample is ungraded text → correct = false; what is checked is the bookkeeping.
    writeFileSync(
      join(dir, 'a.jsonl'),
      [
        '{"problem":"w3 w4","answer":"1"}',
        '{"problem":"w5","answer":"2"}',
        'not json',
        '{"problem":"w6 w7 w8","answer":"3"}',
        '{"question":"w9"}',
      ].join('\n') + '\n',
    );
    server = await startTestServer();
    worker = spawnWorker(server.address);
  });
  after(async () => {
    worker.child.kill('SIGTERM');
    await worker.exited;
    await server.stop();
  });

  async function evaluate(out: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return run(process.execPath, [
      siriBin,
      'eval',
      '--model',
      MODEL,
      '--data',
      join(dir, 'a.jsonl'),
      '--samples',
      '3',
      '--max-tokens',
      '12',
      '--template',
      'plain',
      '--shard-size',
      '2',
      '--seed',
      '9',
      '--out',
      out,
      '--address',
      server.address,
    ]);
  }

  test('results.json agrees with the stored samples; bad lines are reported and counted; same seed → same samples', async () => {
    const out = join(dir, 'out1');
    const first = await evaluate(out);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /a\.jsonl:3: .*skipped/);
    assert.match(first.stderr, /a\.jsonl:5: .*skipped/);
    assert.deepEqual(readdirSync(join(out, 'shards')).sort(), ['0-a-000000.json.gz', '0-a-000002.json.gz']);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    const samples = gunzipSync(readFileSync(join(out, 'samples.jsonl.gz')))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(samples.length, 3 * 3);
    const dataset = results.summary.datasets[0];
    assert.equal(dataset.problems, 3);
    assert.equal(dataset.samplesPerProblem, 3);
    assert.equal(dataset.skipped, 2);
    // Every stored grade is what the grader says of the stored text; pass@1 and lengths follow from them.
    const gold: Record<number, string> = { 0: '1', 1: '2', 2: '3' };
    for (const s of samples)
      assert.equal(s.correct, gradeResponse(s.text, gold[s.problemIndex] ?? '').correct);
    const perProblem = [0, 1, 2].map((p) =>
      samples.filter((s) => s.problemIndex === p).map((s) => s.correct as boolean),
    );
    assert.equal(dataset.pass1, passAt1(perProblem));
    const meanLength = samples.reduce((acc, s) => acc + s.length, 0) / samples.length;
    assert.ok(Math.abs(dataset.meanLength - meanLength) < 1e-9);
    assert.equal(dataset.truncationRate, samples.filter((s) => s.truncated).length / samples.length);

    const second = await evaluate(join(dir, 'out2'));
    assert.equal(second.code, 0, second.stderr);
    const again = gunzipSync(readFileSync(join(dir, 'out2', 'samples.jsonl.gz'))).toString('utf8');
    assert.equal(again, gunzipSync(readFileSync(join(out, 'samples.jsonl.gz'))).toString('utf8'));
  });
});
