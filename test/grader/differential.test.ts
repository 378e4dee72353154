// A small slice (every 70th pair, about 52) of the Math-Verify differential test (bench/grader-differential.ts):
// our verdict must equal Math-Verify's except for the documented, explained disagreements. Skipped when
// the shared data or the venv's math-verify is missing (e.g. before `scripts/setup`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildPairs, DATA_DIR } from '../../bench/grader-pairs';
import { mathVerifyAvailable, runMathVerify } from '../../bench/grader-reference';
import { compareAll, explain } from '../../bench/grader-differential';

const ready = existsSync(join(DATA_DIR, 'math500.jsonl')) && mathVerifyAvailable();

test(
  'agrees with Math-Verify on a slice of the differential pairs',
  { skip: ready ? false : 'no ../shared/data or math-verify' },
  () => {
    const pairs = buildPairs().filter((_, i) => i % 70 === 0);
    assert.ok(pairs.length >= 50);
    const rows = compareAll(pairs, runMathVerify(pairs).verdicts);
    const unexplained = rows
      .filter((r) => r.ours.correct !== r.mathVerify && explain(r) === null)
      .map(
        (r) =>
          `${r.pair.id}: gold ${r.pair.gold} | ours ${r.ours.correct} (${r.ours.extracted}) | Math-Verify ${r.mathVerify}`,
      );
    assert.deepEqual(unexplained, []);
    const agreed = rows.filter((r) => r.ours.correct === r.mathVerify).length;
    assert.ok(agreed / rows.length >= 0.95, `agreement ${agreed}/${rows.length}`);
  },
);
