// `siri grade`: single grades, JSONL files in input order with 1 and N workers, malformed lines reported
// with their line numbers and a non-zero exit code.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gradeFile, parseCaseLine, MALFORMED_EXIT_CODE } from '../../cli/grade';

const root = new URL('../..', import.meta.url).pathname;

function siri(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [join(root, 'bin/siri.mjs'), ...args], {
    encoding: 'utf8',
    cwd: root,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe('siri grade', () => {
  let dir: string;
  let input: string;
  const lines: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'siri-grade-'));
    input = join(dir, 'cases.jsonl');
    for (let i = 0; i < 150; i++) {
      const gold = `\\frac{${i}}{${i + 1}}`;
      const response =
        i % 2 === 0 ? `<think>hmm</think> so \\boxed{\\frac{${2 * i}}{${2 * i + 2}}}` : `\\boxed{${i}}`;
      lines.push(JSON.stringify({ id: `case-${i}`, response, gold }));
    }
    lines.splice(10, 0, '{"id": 1, "response": "\\\\boxed{1}"'); // line 11: cut short
    lines.splice(40, 0, '[1, 2]'); // line 41: not an object
    lines.splice(70, 0, ''); // line 71: blank lines are allowed
    lines.splice(90, 0, '{"response": "\\\\boxed{1}", "gold": "1"}'); // line 91: no id
    writeFileSync(input, lines.join('\n') + '\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('parseCaseLine says what is wrong with a line', () => {
    assert.equal(parseCaseLine('{'), 'not valid JSON');
    assert.equal(parseCaseLine('"x"'), 'not a JSON object');
    assert.equal(parseCaseLine('{"id":1,"response":2,"gold":"1"}'), '"response" must be a string');
    assert.equal(parseCaseLine('{"id":1,"response":"2"}'), '"gold" must be a string');
    assert.deepEqual(parseCaseLine('{"id":null,"response":"a","gold":"b"}'), {
      id: null,
      response: 'a',
      gold: 'b',
    });
  });

  test('a file graded in this thread: input order, malformed lines reported by number', async () => {
    const out = new Collect();
    const warnings: string[] = [];
    const summary = await gradeFile(input, out, 1, {}, (w) => warnings.push(w));
    assert.deepEqual(summary.malformedLines, [11, 41, 91]);
    assert.deepEqual(warnings, [
      'line 11: skipped: not valid JSON',
      'line 41: skipped: not a JSON object',
      'line 91: skipped: no "id" field',
    ]);
    const results = out.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; correct: boolean; reason: string });
    assert.equal(results.length, 150);
    assert.deepEqual(
      results.map((r) => r.id),
      Array.from({ length: 150 }, (_, i) => `case-${i}`),
    );
    // even ids answer the same fraction unreduced (correct); odd ids answer i instead of i/(i+1).
    assert.deepEqual(
      results.map((r) => r.correct),
      Array.from({ length: 150 }, (_, i) => i % 2 === 0),
    );
    assert.equal(summary.correct, 75);
  });

  test('a worker pool gives the same lines in the same order as one thread', async () => {
    const one = new Collect();
    const pooled = new Collect();
    await gradeFile(input, one, 1, {}, () => undefined);
    const summary = await gradeFile(input, pooled, 2, {}, () => undefined);
    assert.equal(pooled.text, one.text);
    assert.equal(summary.graded, 150);
    assert.deepEqual(summary.malformedLines, [11, 41, 91]);
  });

  test('the command writes the output file and exits 3 when lines were malformed', () => {
    const output = join(dir, 'pool.jsonl');
    const run = siri('grade', '--input', input, '--output', output);
    assert.equal(run.code, MALFORMED_EXIT_CODE, run.stderr);
    assert.match(run.stderr, /^line 41: skipped: not a JSON object$/m);
    assert.match(run.stderr, /siri: 3 malformed input lines skipped \(lines 11, 41, 91\)/);
    assert.equal(readFileSync(output, 'utf8').trim().split('\n').length, 150);
  });

  test('a clean file exits 0; a single grade prints one JSON result', () => {
    const clean = join(dir, 'clean.jsonl');
    writeFileSync(clean, '{"id":7,"response":"\\\\boxed{x=5}","gold":"5"}\n');
    const run = siri('grade', '--input', clean);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { id: 7, correct: true, extracted: 'x=5', reason: 'match' });
    const one = siri('grade', '--gold', '-2', '--response', 'so \\boxed{-2}');
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(JSON.parse(one.stdout), { correct: true, extracted: '-2', reason: 'match' });
  });

  test('usage errors are one line and non-zero', () => {
    for (const args of [
      ['grade', '--gold', '1'],
      ['grade', '--input', join(dir, 'missing.jsonl')],
    ]) {
      const run = siri(...args);
      assert.notEqual(run.code, 0);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /^siri: /);
    }
  });
});
