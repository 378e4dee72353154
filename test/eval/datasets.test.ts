// Problem-set loading: the paper's benchmark files in ../shared/data (read in place, never copied),
// malformed JSONL lines reported with file and line, JSON arrays, and Parquet files written by pyarrow
// (an independent writer) with snappy and gzip pages and nested answer columns.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ProblemSetError,
  describeLoad,
  detectFormat,
  formatSkipped,
  getField,
  loadProblemSet,
  loadProblemSets,
  type SkippedRecord,
} from '../../eval/datasets';

const root = new URL('../..', import.meta.url).pathname;
const sharedData = join(root, '..', 'shared', 'data');
const python = join(root, '.venv', 'bin', 'python');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'siri-datasets-'));
}

function hasPyarrow(): boolean {
  if (!existsSync(python)) return false;
  try {
    execFileSync(python, ['-c', 'import pyarrow'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe(
  'the benchmark files in ../shared/data',
  { skip: !existsSync(sharedData) && 'no ../shared/data' },
  () => {
    test('each set has the row count its README states and nothing is skipped', async () => {
      const expected: Record<string, number> = { aime24: 30, aime25: 30, amc: 83, amc23: 40, math500: 500 };
      const sets = await loadProblemSets(Object.keys(expected).map((n) => join(sharedData, `${n}.jsonl`)));
      for (const set of sets) {
        assert.equal(set.problems.length, expected[set.name], set.name);
        assert.deepEqual(set.skipped, [], set.name);
        assert.equal(set.format, 'jsonl');
      }
    });

    test('AIME 2024 keeps ids, answers as written (zero-padded) and line numbers', async () => {
      const set = await loadProblemSet(join(sharedData, 'aime24.jsonl'));
      const first = set.problems[0];
      assert.ok(first);
      assert.equal(first.id, 'aime-2024-I-1');
      assert.equal(first.line, 1);
      assert.equal(first.index, 0);
      assert.match(first.problem, /^Every morning Aya goes for a \$9\$-kilometer-long walk/);
      assert.equal(first.answer, '204');
      // The README lists 7 zero-padded answers; they are kept as strings, not turned into numbers.
      const padded = set.problems.map((p) => p.answer).filter((a) => /^0\d/.test(a));
      assert.deepEqual(padded.sort(), ['023', '025', '033', '045', '055', '073', '080']);
      assert.equal(set.problems[29]?.line, 30);
    });

    test('AMC answers are integer strings ("142" for the first problem)', async () => {
      const set = await loadProblemSet(join(sharedData, 'amc.jsonl'));
      assert.equal(set.problems[0]?.answer, '142');
      assert.ok(set.problems.every((p) => /^-?\d+$/.test(p.answer)));
    });
  },
);

describe('JSONL with bad lines', () => {
  test('every bad line is reported with file and line, skipped and counted; the rest load', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'mixed.jsonl');
      writeFileSync(
        file,
        [
          '{"problem": "1+1?", "answer": "2", "id": "a"}',
          '{"problem": "2+2?", "answer": 4}', // numeric answer → "4", id from the line
          '{"problem": "broken", "answer": ', // invalid JSON
          '', // blank: not a record, not counted
          '{"problem": "no answer here"}', // missing answer
          '[1, 2, 3]', // not an object
          '{"problem": "   ", "answer": "1"}', // empty problem
          '{"problem": "3+3?", "answer": ["6"]}', // answer of the wrong type
          '{"problem": "0.5+1?", "answer": 1.5}',
          '',
        ].join('\r\n'), // CRLF line ends must not break line numbering
      );
      const seen: SkippedRecord[] = [];
      const set = await loadProblemSet(file, { onSkip: (r) => seen.push(r) });
      assert.deepEqual(
        set.problems.map((p) => [p.id, p.answer, p.line, p.index]),
        [
          ['a', '2', 1, 0],
          ['mixed-2', '4', 2, 1],
          ['mixed-9', '1.5', 9, 2],
        ],
      );
      assert.deepEqual(
        set.skipped.map((s) => [s.file, s.line]),
        [
          [file, 3],
          [file, 5],
          [file, 6],
          [file, 7],
          [file, 8],
        ],
      );
      assert.match(set.skipped[0]?.reason ?? '', /^invalid JSON/);
      assert.equal(set.skipped[1]?.reason, 'missing field "answer"');
      assert.equal(set.skipped[2]?.reason, 'expected a JSON object, got a list');
      assert.equal(set.skipped[3]?.reason, 'field "problem" is empty');
      assert.equal(set.skipped[4]?.reason, 'field "answer" must be a string or a number, got a list');
      assert.deepEqual(seen, set.skipped, 'onSkip saw each skipped record as it was found');
      assert.equal(formatSkipped(set.skipped[1]), `${file}:5: missing field "answer" (skipped)`);
      assert.equal(describeLoad(set), `mixed (${file}): 3 problems loaded, 5 records skipped`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('configurable field names, including dotted paths into nested objects', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'custom.jsonl');
      writeFileSync(
        file,
        '\uFEFF{"question": "Q1", "reward_model": {"ground_truth": "7"}, "uid": 11}\n' +
          '{"question": "Q2", "reward_model": {}}\n',
      );
      const set = await loadProblemSet(file, {
        problemField: 'question',
        answerField: 'reward_model.ground_truth',
        idField: 'uid',
      });
      assert.deepEqual(set.problems, [{ index: 0, id: '11', problem: 'Q1', answer: '7', line: 1 }]);
      assert.deepEqual(set.skipped, [{ file, line: 2, reason: 'missing field "reward_model.ground_truth"' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('getField walks dotted paths and stops at non-objects', () => {
    assert.equal(getField({ a: { b: { c: 3 } } }, 'a.b.c'), 3);
    assert.equal(getField({ a: [1] }, 'a.0'), undefined);
    assert.equal(getField({ a: 'x' }, 'a.b'), undefined);
  });
});

describe('JSON arrays and errors', () => {
  test('a JSON array loads element by element (1-based element numbers)', async () => {
    const dir = tempDir();
    try {
      const file = join(dir, 'set.json');
      writeFileSync(file, JSON.stringify([{ problem: 'P', answer: 'A' }, { problem: 'Q' }, 5]));
      const set = await loadProblemSet(file);
      assert.equal(set.format, 'json');
      assert.deepEqual(
        set.problems.map((p) => p.line),
        [1],
      );
      assert.deepEqual(
        set.skipped.map((s) => [s.line, s.reason]),
        [
          [2, 'missing field "answer"'],
          [3, 'expected a JSON object, got a number'],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('unreadable inputs are errors that name the file', async () => {
    assert.equal(detectFormat('x/y.NDJSON'), 'jsonl');
    assert.throws(() => detectFormat('data.csv'), /data\.csv: unknown problem-set format "\.csv"/);
    await assert.rejects(loadProblemSet('/nonexistent/set.jsonl'), (err: Error) => {
      assert.ok(err instanceof ProblemSetError);
      assert.match(err.message, /^\/nonexistent\/set\.jsonl: cannot read the problem set/);
      return true;
    });
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'obj.json'), '{"problem": "P"}');
      await assert.rejects(
        loadProblemSet(join(dir, 'obj.json')),
        /expected a JSON array of problems, got an object/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const noPyarrow =
  !hasPyarrow() && 'pyarrow is not installed in .venv (scripts/setup installs it from requirements-dev.txt)';

describe('Parquet', () => {
  /** Writes test Parquet files with pyarrow: flat (snappy), nested answer (gzip), one row with a null. */
  function writeParquetFixtures(dir: string): void {
    const script = `
import sys, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
flat = pa.table({
    'id': ['p0', 'p1', 'p2', 'p3'],
    'problem': ['What is 1+1?', None, 'What is 3*3?', 'Half of 3?'],
    'answer': ['2', '4', '9', '1.5'],
    'level': [1, 2, 3, 4],
})
pq.write_table(flat, d + '/flat.parquet', compression='snappy')
nested = pa.table({
    'prompt_text': ['A', 'B'],
    'reward_model': [{'ground_truth': '10', 'style': 'rule'}, {'ground_truth': '20', 'style': 'rule'}],
})
pq.write_table(nested, d + '/nested.parquet', compression='gzip')
`;
    execFileSync(python, ['-c', script, dir]);
  }

  test(
    'flat and nested files load; a null problem is skipped with its row number',
    { skip: noPyarrow },
    async () => {
      const dir = tempDir();
      try {
        writeParquetFixtures(dir);
        const flat = await loadProblemSet(join(dir, 'flat.parquet'));
        assert.equal(flat.format, 'parquet');
        assert.deepEqual(
          flat.problems.map((p) => [p.id, p.problem, p.answer, p.line]),
          [
            ['p0', 'What is 1+1?', '2', 1],
            ['p2', 'What is 3*3?', '9', 3],
            ['p3', 'Half of 3?', '1.5', 4],
          ],
        );
        assert.deepEqual(flat.skipped, [
          {
            file: join(dir, 'flat.parquet'),
            line: 2,
            reason: 'field "problem" must be a string, got null',
          },
        ]);

        const nested = await loadProblemSet(join(dir, 'nested.parquet'), {
          problemField: 'prompt_text',
          answerField: 'reward_model.ground_truth',
        });
        assert.deepEqual(
          nested.problems.map((p) => [p.id, p.problem, p.answer]),
          [
            ['nested-1', 'A', '10'],
            ['nested-2', 'B', '20'],
          ],
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test('a missing column is one error that lists the columns there are', { skip: noPyarrow }, async () => {
    const dir = tempDir();
    try {
      writeParquetFixtures(dir);
      await assert.rejects(
        loadProblemSet(join(dir, 'flat.parquet'), { answerField: 'solution' }),
        /flat\.parquet: no column "solution" for field "solution" \(columns: id, problem, answer, level\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
