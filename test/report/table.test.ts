// Table 1: accuracy/length per benchmark, averages, and the accuracy–compression ratio against the base,
// with best bold and second best underlined — values worked out by hand.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTable1, rankColumn, table1Html, table1Markdown } from '../../report/table';
import { dataset, evaluation, model } from './helpers';

describe('rankColumn', () => {
  test('best and second best distinct values; ties share a rank; missing values none', () => {
    assert.deepEqual(rankColumn([3, 1, 2, null, 3], 'higher'), [1, null, 2, null, 1]);
    assert.deepEqual(rankColumn([3, 1, 2, null, 3], 'lower'), [null, 1, 2, null, null]);
    assert.deepEqual(rankColumn([5], 'higher'), [1]);
    assert.deepEqual(rankColumn([null, null], 'higher'), [null, null]);
  });
});

// Base: aime 30% / 10000 tokens, amc 60% / 8000.
// M1:   aime 36% / 7000,  amc 57% / 6100 → gains +0.2, −0.05 → ΔAcc = (0.2 + 0)/2 = 0.1;
//       CR = (0.7 + 0.7625)/2 = 0.73125; ratio = 0.1 / 0.73125 = 0.136752…
// M2:   aime 33% / 9000,  amc 66% / 4000 → gains +0.1, +0.1 → ΔAcc = 0.1; CR = (0.9 + 0.5)/2 = 0.7;
//       ratio = 0.1 / 0.7 = 0.142857…
const base = evaluation('Base', [dataset('aime', 0.3, 10000), dataset('amc', 0.6, 8000)]);
const m1 = evaluation('M1', [dataset('aime', 0.36, 7000), dataset('amc', 0.57, 6100)]);
const m2 = evaluation('M2', [dataset('aime', 0.33, 9000), dataset('amc', 0.66, 4000)]);

describe('buildTable1', () => {
  const table = buildTable1(model({ results: [m1, base, m2], base }))!;

  test('columns: Acc/Len per benchmark, the averages, and ΔAcc/CR/Ratio against the base', () => {
    assert.deepEqual(
      table.columns.map((c) => `${c.group} ${c.name}`),
      [
        'aime Acc',
        'aime Len',
        'amc Acc',
        'amc Len',
        'Average Acc',
        'Average Len',
        'vs Base ΔAcc',
        'vs Base CR',
        'vs Base Ratio',
      ],
    );
    assert.deepEqual(
      table.rows.map((r) => [r.label, r.isBase]),
      [
        ['Base', true],
        ['M1', false],
        ['M2', false],
      ],
    );
  });

  test('values and their text', () => {
    const text = table.rows.map((r) => r.cells.map((c) => c.text));
    assert.deepEqual(text, [
      ['30.0', '10,000', '60.0', '8,000', '45.0', '9,000', '—', '—', '—'],
      ['36.0', '7,000', '57.0', '6,100', '46.5', '6,550', '+10.0%', '0.73', '0.137'],
      ['33.0', '9,000', '66.0', '4,000', '49.5', '6,500', '+10.0%', '0.70', '0.143'],
    ]);
    const ratio = table.rows[1]!.cells[8]!.value!;
    assert.ok(Math.abs(ratio - 0.1 / 0.73125) < 1e-12);
    assert.ok(Math.abs(table.rows[2]!.cells[8]!.value! - 0.1 / 0.7) < 1e-12);
  });

  test('best bold (1) and second best underlined (2) per column; equal shown values tie', () => {
    const ranks = table.rows.map((r) => r.cells.map((c) => c.rank));
    assert.deepEqual(ranks, [
      // aime acc, len; amc acc, len; avg acc, len; ΔAcc, CR, ratio
      [null, null, 2, null, null, null, null, null, null],
      [1, 1, null, 2, 2, 2, 1, 2, 2],
      [2, 2, 1, 1, 1, 1, 1, 1, 1],
    ]);
  });

  test('HTML: strong for best, u for second, base tagged; markdown likewise', () => {
    const html = table1Html(table);
    assert.ok(html.includes('<th colspan="2" scope="colgroup">aime</th>'));
    assert.ok(html.includes('<th colspan="3" scope="colgroup">vs Base</th>'));
    assert.ok(html.includes('<tr class="base"><th scope="row">Base <span class="tag">base</span></th>'));
    assert.ok(
      html.includes(
        '<th scope="row">M1</th><td class="best"><strong>36.0</strong></td><td class="best"><strong>7,000</strong></td>' +
          '<td>57.0</td><td class="second"><u>6,100</u></td>',
      ),
    );
    const md = table1Markdown(table);
    assert.ok(
      md.includes(
        '| M2 | <u>33.0</u> | <u>9,000</u> | **66.0** | **4,000** | **49.5** | **6,500** | **+10.0%** | **0.70** | **0.143** |',
      ),
    );
    assert.ok(md.includes('| Base (base) | 30.0 | 10,000 | <u>60.0</u> |'));
  });

  test('a row missing a benchmark: no average, ratio over the shared benchmarks', () => {
    const partial = evaluation('P', [dataset('aime', 0.45, 5000)]); // gain 0.5, CR 0.5 → ratio 1
    const t = buildTable1(model({ results: [base, partial], base }))!;
    const row = t.rows[1]!;
    assert.deepEqual(
      row.cells.map((c) => c.text),
      ['45.0', '5,000', '–', '–', '–', '–', '+50.0%', '0.50', '1.000'],
    );
  });

  test('no base: no ratio columns; no evaluations: no table', () => {
    const t = buildTable1(model({ results: [m1, m2] }))!;
    assert.equal(t.base, null);
    assert.equal(t.columns.length, 6);
    assert.equal(buildTable1(model()), null);
  });

  test('labels are escaped in HTML', () => {
    const t = buildTable1(model({ results: [evaluation('<b>x</b> & "y"', [dataset('a', 0.5, 10)])] }))!;
    assert.ok(table1Html(t).includes('&#60;b&#62;x&#60;/b&#62; &#38; &#34;y&#34;'));
  });
});
