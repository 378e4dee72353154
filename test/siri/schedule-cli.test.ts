// `siri schedule`: spawns the real CLI (node bin/siri.mjs) for the default JSON lines, the plot and a
// bad flag; the other formats and flag checks run in-process through scheduleOutput.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { CliError } from '../../cli/errors';
import { scheduleOutput, type ScheduleFlags } from '../../cli/schedule';

function siri(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/siri.mjs', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const defaults: ScheduleFlags = {
  kind: 'cosine',
  lMax: '16384',
  lMin: '8192',
  cycle: '640',
  phase: '0',
  granularity: '1',
  width: '80',
  height: '16',
};

describe('siri schedule (spawned)', () => {
  test('default output: one {"step","maxTokens"} JSON object per line', () => {
    const r = siri(
      'schedule',
      '--kind',
      'cosine',
      '--l-max',
      '16',
      '--l-min',
      '8',
      '--cycle',
      '8',
      '--steps',
      '9',
    );
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown);
    // 12 + 4·cos(2πt/8), rounded half up
    assert.deepEqual(
      rows,
      [16, 15, 12, 9, 8, 9, 12, 15, 16].map((maxTokens, step) => ({ step, maxTokens })),
    );
  });

  test('paper defaults with --plot: a chart of about 80 columns naming the checkpoints', () => {
    const r = siri('schedule', '--plot');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(
      lines[0] ?? '',
      /^cosine lMax 16384 lMin 8192 cycle 640 phase 0 granularity 1 — steps 0\.\.1919$/,
    );
    assert.match(lines[1] ?? '', /^16384 ┤●/);
    assert.ok(lines.some((l) => /^ 8192 ┤/.test(l)));
    const tooWide = lines.filter((l) => [...l].length > 80);
    assert.deepEqual(tooWide, [], 'every line fits 80 columns');
    const footer = lines.slice(lines.findIndex((l) => l.startsWith('named checkpoints'))).join(' ');
    assert.equal(
      footer.replace(/\s+/g, ' '),
      'named checkpoints (name@step): Iter1-Compressed@320, Iter1-Expanded@639, Iter2-Compressed@960, ' +
        'Iter2-Expanded@1279, Iter3-Compressed@1600, Iter3-Expanded@1919',
    );
  });

  test('a reader that closes the pipe early (| head): exit 0, nothing on stderr', async () => {
    // 200,000 lines (~6 MB) overflow any pipe buffer, so the CLI is still writing when the reader goes.
    const child = spawn(process.execPath, ['bin/siri.mjs', 'schedule', '--steps', '200000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const first = await new Promise<string>((resolve) =>
      child.stdout.once('data', (c: Buffer) => resolve(c.toString())),
    );
    child.stdout.destroy();
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    assert.match(first, /^\{"step":0,"maxTokens":16384\}/);
    assert.equal(stderr, '');
    assert.equal(status, 0);
  });

  test('a bad value: one line naming the flag, exit code 2', () => {
    const r = siri('schedule', '--cycle', 'abc');
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), 'siri: --cycle must be an integer, got "abc"');
    assert.equal(r.stdout, '');
  });
});

describe('siri schedule (in-process)', () => {
  test('paper defaults: 1920 steps, lMin at 320, 960 and 1600', () => {
    const lines = scheduleOutput(defaults).trimEnd().split('\n');
    assert.equal(lines.length, 1920);
    assert.equal(lines[0], '{"step":0,"maxTokens":16384}');
    assert.equal(lines[320], '{"step":320,"maxTokens":8192}');
    assert.equal(lines[1600], '{"step":1600,"maxTokens":8192}');
  });

  test('--json is one array; --csv has a header; steps default to 3 cycles', () => {
    const flags = { ...defaults, lMax: '16', lMin: '8', cycle: '4', steps: '3' };
    assert.equal(
      scheduleOutput({ ...flags, json: true }),
      '[{"step":0,"maxTokens":16},{"step":1,"maxTokens":12},{"step":2,"maxTokens":8}]\n',
    );
    assert.equal(scheduleOutput({ ...flags, csv: true }), 'step,maxTokens\n0,16\n1,12\n2,8\n');
    const { steps: _omit, ...noSteps } = flags;
    assert.equal(
      scheduleOutput({ ...noSteps, csv: true })
        .trimEnd()
        .split('\n').length,
      1 + 12,
    );
  });

  test('stair, phase, granularity, stages and piecewise through the flags', () => {
    const csv = (f: Partial<ScheduleFlags>): string[] =>
      scheduleOutput({ ...defaults, ...f, csv: true })
        .trimEnd()
        .split('\n')
        .slice(1);
    assert.deepEqual(csv({ kind: 'stair', lMax: '16', lMin: '8', cycle: '8', steps: '8' }), [
      '0,16',
      '1,16',
      '2,16',
      '3,8',
      '4,8',
      '5,8',
      '6,16',
      '7,16',
    ]);
    assert.deepEqual(csv({ lMax: '16', lMin: '8', cycle: '8', steps: '2', phase: '4' }), ['0,8', '1,9']);
    assert.deepEqual(csv({ steps: '2', phase: '80', granularity: '1024' }), ['0,15360', '1,15360']);
    assert.deepEqual(csv({ kind: 'stages', stages: '0:8192,2:16384', steps: '3' }), [
      '0,8192',
      '1,8192',
      '2,16384',
    ]);
    assert.deepEqual(csv({ kind: 'piecewise', points: '0:100,4:60', steps: '6' }), [
      '0,100',
      '1,90',
      '2,80',
      '3,70',
      '4,60',
      '5,60',
    ]);
    assert.deepEqual(csv({ kind: 'constant', lMax: '4096', steps: '2' }), ['0,4096', '1,4096']);
  });

  test('bad values name their flag', () => {
    const bad = (f: Partial<ScheduleFlags>, message: RegExp): void =>
      assert.throws(
        () => scheduleOutput({ ...defaults, ...f }),
        (err: unknown) => {
          assert.ok(err instanceof CliError);
          assert.match(err.message, message);
          return true;
        },
      );
    bad({ lMin: '9000', lMax: '8192' }, /^--l-min \(9000\) must not exceed --l-max \(8192\)$/);
    bad({ lMax: '0' }, /^--l-max: expected a number >= 1, got 0$/);
    bad({ cycle: '2' }, /^--cycle: expected a number >= 3, got 2$/);
    bad({ granularity: '1.5' }, /^--granularity must be an integer, got "1.5"$/);
    bad({ steps: '0' }, /^--steps must be a positive integer/);
    bad({ kind: 'linear' }, /^--kind must be one of cosine, stair/);
    bad({ kind: 'stages' }, /^--kind stages needs --stages/);
    bad({ kind: 'stages', stages: '5:100' }, /^--stages: expected the first stage to start at fromStep 0$/);
    bad({ kind: 'piecewise', points: '0-100' }, /^--points must be a list like/);
    bad({ json: true, plot: true }, /^choose one output format, got --json and --plot$/);
    bad({ plot: true, width: '10' }, /^--width must be at least 20/);
  });
});
