// `siri report` through the real CLI (node bin/siri.mjs) on the synthetic fixtures: the files it writes
// (HTML, SVG + PNG per figure, table1.md, report.json), a self-contained page, no Vega warnings on stderr,
// and a one-line error for a bad input.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultReportDir, runReport } from '../../cli/report';
import { pngSize } from '../../report/render';
import { writeFixtures, type FixtureLayout } from './fixtures';

let fx: FixtureLayout;
let scratch: string;

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'siri-report-cli-'));
  fx = await writeFixtures(join(scratch, 'fixtures'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

function siri(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/siri.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Manifest {
  figures: { id: string; svg: string; png: string; pngWidth: number; pngHeight: number }[];
  omitted: unknown[];
  table: { file: string; rows: number; base: string } | null;
  notes: string[];
}

describe('siri report', () => {
  test('writes report.html, an SVG and a PNG per figure, table1.md and report.json', () => {
    const out = join(scratch, 'out');
    const r = siri(
      'report',
      fx.runDir,
      ...fx.baselineDirs,
      '--out',
      out,
      '--title',
      'Synthetic fixture report',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'no Vega warnings or other noise');
    assert.match(r.stdout, new RegExp(`^report: ${join(out, 'report.html')}$`, 'm'));
    assert.match(r.stdout, /^figures: 5 \(schedule, training, entropy, pareto, keywords\)/m);
    const ids = ['schedule', 'training', 'entropy', 'pareto', 'keywords'];
    assert.deepEqual(
      readdirSync(out).sort(),
      ['report.html', 'report.json', 'table1.md', ...ids.flatMap((id) => [`${id}.png`, `${id}.svg`])].sort(),
    );
    const manifest = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Manifest;
    assert.deepEqual(
      manifest.figures.map((f) => f.id),
      ids,
    );
    assert.deepEqual(manifest.omitted, []);
    assert.deepEqual(manifest.table, { file: 'table1.md', rows: 9, base: 'base' });
    for (const f of manifest.figures) {
      const png = readFileSync(join(out, f.png));
      assert.deepEqual(pngSize(png), { width: f.pngWidth, height: f.pngHeight }, f.id);
      assert.ok(f.pngWidth >= 1000 && f.pngHeight >= 400, `${f.id}: ${f.pngWidth}×${f.pngHeight}`);
      assert.match(readFileSync(join(out, f.svg), 'utf8'), /^<svg /);
    }
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /<title>Synthetic fixture report<\/title>/);
    assert.equal(html.match(/<figure class="report-figure"/g)?.length, 5);
    assert.equal(html.match(/<svg /g)?.length, 5, 'every figure inline');
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'nothing loaded from the network');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    const md = readFileSync(join(out, 'table1.md'), 'utf8');
    assert.match(md, /^\| base \(base\) \|/m);
    assert.equal(md.trim().split('\n').length, 2 + 9);
  });

  test('default output directory is <input>/report for one input (in-process)', async () => {
    const lines: string[] = [];
    await runReport([fx.baselineDirs[0]!], {}, (line) => lines.push(line));
    assert.equal(lines[0], `report: ${join(fx.baselineDirs[0]!, 'report', 'report.html')}`);
    assert.ok(
      lines.includes(
        'left out: Accuracy vs response length (Figure 1): needs at least two evaluations, found 1',
      ),
    );
    assert.equal(defaultReportDir(['a', 'b']), join(process.cwd(), 'siri-report'));
  });

  test('a bad input is one line on stderr and a non-zero exit', () => {
    const r = siri('report', join(scratch, 'does-not-exist'));
    assert.notEqual(r.status, 0);
    assert.equal(r.stderr, `siri: ${join(scratch, 'does-not-exist')}: no such file or directory\n`);
  });
});
