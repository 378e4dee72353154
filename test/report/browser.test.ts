// The report in a real headless Chromium (Debian's chromium through playwright-core): it opens from disk
// with no console errors and no request beyond the file itself, every figure is there and drawn at a
// real size, Table 1 has its bold and underlined cells, and a full-page screenshot is a sizeable PNG
// (kept at $SIRI_REPORT_SCREENSHOT when set, for a person to look at). Skips, saying why, without chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { buildReport, type BuiltReport } from '../../report/build';
import { pngSize } from '../../report/render';
import { writeFixtures } from './fixtures';

const CHROMIUM = process.env.SIRI_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const skip = existsSync(CHROMIUM)
  ? false
  : `Chromium is not installed at ${CHROMIUM} (Debian: apt-get install chromium; or set SIRI_CHROMIUM)`;

describe('the report in headless Chromium', () => {
  let scratch: string;
  let report: BuiltReport;
  let browser: Browser;

  before(async () => {
    if (skip) return;
    scratch = mkdtempSync(join(tmpdir(), 'siri-report-browser-'));
    const fx = await writeFixtures(join(scratch, 'fixtures'));
    report = await buildReport([fx.runDir, ...fx.baselineDirs], { out: join(scratch, 'out') });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    if (skip) return;
    await browser.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  test(
    'loads from disk with no console errors and no network request; every figure is drawn',
    { skip },
    async () => {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(report.html.path).href;
      const response = await page.goto(url, { waitUntil: 'load' });
      assert.ok(response?.ok(), 'the page loaded');
      assert.deepEqual(problems, []);
      assert.deepEqual(requests, [url], 'the only request is the page itself');

      assert.equal(report.figures.length, 5);
      assert.equal(await page.locator('figure.report-figure').count(), report.figures.length);
      assert.equal(await page.locator('figure.report-figure > svg').count(), report.figures.length);
      for (const f of report.figures) {
        const box = await page.locator(`figure[data-figure="${f.id}"] > svg`).boundingBox();
        assert.ok(
          box && box.width > 400 && box.height > 150,
          `${f.id} drawn at ${box?.width}×${box?.height}`,
        );
        // Marks, not an empty frame: every Vega figure has paths for its lines, rules or symbols.
        const paths = await page.locator(`figure[data-figure="${f.id}"] > svg path`).count();
        assert.ok(paths > 20, `${f.id} has ${paths} paths`);
      }
      assert.equal(await page.locator('table.table1 tbody tr').count(), 9);
      assert.ok((await page.locator('table.table1 td.best strong').count()) >= 11, 'a best cell per column');
      assert.ok(
        (await page.locator('table.table1 td.second u').count()) >= 10,
        'a second-best cell per column',
      );
      await page.close();
    },
  );

  test('a full-page screenshot is a sizeable PNG', { skip }, async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.goto(pathToFileURL(report.html.path).href, { waitUntil: 'load' });
    const png = await page.screenshot({ fullPage: true });
    const { width, height } = pngSize(png);
    assert.equal(width, 1200);
    assert.ok(height > 2500, `the page is ${height} px tall (table + 5 figures)`);
    assert.ok(png.length > 150_000, `screenshot of ${png.length} bytes`);
    const keep = process.env.SIRI_REPORT_SCREENSHOT;
    if (keep) writeFileSync(keep, png);
    await page.close();
  });
});
