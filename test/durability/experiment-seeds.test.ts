// `siri experiment toy --seeds`: a real Temporal dev server, the CLI's own worker, the real engine and the
// toy base. Two methods × two seeds, 4 steps each: every run trains with its seed, the base is evaluated
// once per seed, and the across-seed table (console, seeds.md, report.html) holds the figures recomputed
// here from the runs' own metrics.jsonl and base results. It is interrupted once (Ctrl-C) and finished by
// the same command run again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { spawnSiri, startTestServer, tempDir, waitFor, type TestServer } from '../helpers/temporal';
import { makeWorld, worldAvailable, type World } from './world';

const skip = worldAvailable() ? false : 'the toy base model (toy/base) is not built yet';

interface Summary {
  meanPass1: number;
  meanLength: number;
}

/** The final evaluation of a run: its last eval, or its last "-Expanded"/"-Compressed" one. */
function lastEval(runDir: string, suffix = ''): Summary {
  const evals = readFileSync(join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { checkpointName?: string | null; eval?: Summary })
    .filter((m) => m.eval && (m.checkpointName ?? '').endsWith(suffix));
  const last = evals.at(-1)?.eval;
  assert.ok(last, `${runDir} has an evaluation ending in "${suffix}"`);
  return last;
}

describe('siri experiment --seeds (two methods × two seeds)', { skip, timeout: 900_000 }, () => {
  let world: World;
  let server: TestServer;
  let dir: string;
  let output = '';

  before(async () => {
    dir = tempDir('experiment-seeds');
    world = await makeWorld(dir);
    server = await startTestServer();
    // Cycle 4 over 4 steps: one compression and one expansion, so SIRI has both named checkpoints.
    const config = world.configPath({ schedule: { kind: 'cosine', lMax: 256, lMin: 64, cycle: 4 } });
    const args = [
      'experiment',
      'toy',
      '--config',
      config,
      '--methods',
      'truncation-lmin,siri-cosine',
      '--seeds',
      '7,3',
      '--id',
      'seeds',
      '--dir',
      join(dir, 'experiments'),
      '--port',
      String(server.port),
    ];
    // Ctrl-C once the first run has trained a step: the command stops (exit 130) and says how to go on;
    // the same command again finishes the experiment from where it stopped.
    const first = spawnSiri(args);
    const firstMetrics = join(dir, 'experiments', 'seeds', 'runs', 'siri-cosine-seed7', 'metrics.jsonl');
    await waitFor(
      'the first run to train a step',
      () => existsSync(firstMetrics) && readFileSync(firstMetrics, 'utf8').trim() !== '',
      300_000,
    );
    first.child.kill('SIGINT');
    const firstCode = await first.exited;
    assert.equal(firstCode, 130, first.output());
    assert.match(first.stdout(), /stopped: the worker was shut down before experiment seeds finished/);
    assert.match(first.stdout(), /run the same command again to go on from the last finished step/);
    const again = spawnSiri(args);
    const code = await again.exited;
    output = first.output() + again.output();
    assert.equal(code, 0, output);
    assert.match(again.stdout(), /experiment seeds is already running: following it/);
  });
  after(async () => {
    await server.stop();
  });

  const runDir = (name: string): string => join(dir, 'experiments', 'seeds', 'runs', name);

  test('one run per method and seed, seed-major, each trained with its seed', () => {
    assert.match(
      output,
      /started: siri-cosine-seed7, truncation-lmin-seed7, siri-cosine-seed3, truncation-lmin-seed3/,
    );
    for (const [name, seed, kind] of [
      ['siri-cosine-seed7', 7, 'cosine'],
      ['truncation-lmin-seed7', 7, 'constant'],
      ['siri-cosine-seed3', 3, 'cosine'],
      ['truncation-lmin-seed3', 3, 'constant'],
    ] as const) {
      const config = JSON.parse(readFileSync(join(runDir(name), 'config.json'), 'utf8')) as {
        seed: number;
        schedule: { kind: string; lMax: number };
      };
      assert.equal(config.seed, seed, name);
      assert.equal(config.schedule.kind, kind, name);
      if (kind === 'constant') assert.equal(config.schedule.lMax, 64, name);
    }
    // The base is evaluated once per seed, by that seed's first run.
    assert.ok(existsSync(join(runDir('siri-cosine-seed7'), 'evals', 'base', 'results.json')));
    assert.ok(existsSync(join(runDir('siri-cosine-seed3'), 'evals', 'base', 'results.json')));
    assert.ok(!existsSync(join(runDir('truncation-lmin-seed7'), 'evals', 'base', 'results.json')));
  });

  test('the across-seed table holds the runs’ own figures, paired by seed against SIRI-high', () => {
    const pct = (x: number): string => (100 * x).toFixed(2);
    const base = (name: string): Summary =>
      (
        JSON.parse(readFileSync(join(runDir(name), 'evals', 'base', 'results.json'), 'utf8')) as {
          summary: Summary;
        }
      ).summary;
    const high = [7, 3].map((s) => lastEval(runDir(`siri-cosine-seed${s}`), '-Expanded'));
    const trunc = [7, 3].map((s) => lastEval(runDir(`truncation-lmin-seed${s}`)));
    const bases = [base('siri-cosine-seed7'), base('siri-cosine-seed3')];
    const mean = (xs: Summary[]): number => (xs[0]!.meanPass1 + xs[1]!.meanPass1) / 2;
    // With two seeds, SE = |x₁ − x₂| / 2 for a mean and for a mean of paired differences.
    const se = (a: number, b: number): string => pct(Math.abs(a - b) / 2);
    const d7 = trunc[0]!.meanPass1 - high[0]!.meanPass1;
    const d3 = trunc[1]!.meanPass1 - high[1]!.meanPass1;
    const seedsMd = readFileSync(join(dir, 'experiments', 'seeds', 'report', 'seeds.md'), 'utf8');
    const row = (label: string): string =>
      seedsMd.split('\n').find((l) => l.startsWith(`| ${label} |`)) ?? '';
    const cells = (label: string): string[] =>
      row(label)
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
    assert.deepEqual(cells('siri-cosine SIRI-high').slice(0, 3), [
      'siri-cosine SIRI-high',
      '7, 3',
      `${pct(mean(high))} ± ${se(high[0]!.meanPass1, high[1]!.meanPass1)}`,
    ]);
    assert.deepEqual(cells('Base').slice(1, 3), [
      '7, 3',
      `${pct(mean(bases))} ± ${se(bases[0]!.meanPass1, bases[1]!.meanPass1)}`,
    ]);
    const delta = cells('truncation-lmin final')[4] ?? '';
    assert.equal(
      delta.replace(/^\+/, ''),
      `${pct((d7 + d3) / 2).replace(/^-0\.00$/, '0.00')} ± ${se(d7, d3)}`,
    );
    assert.ok(cells('siri-cosine SIRI-low').length === 8, seedsMd);
    // The difference's SE over the held-out problems, recomputed from the evaluations' own samples: per
    // problem, (truncation − SIRI-high) pass rate averaged over the two seeds; SE = sd / √P.
    const rates = (name: string, evalName: string): Map<string, number> => {
      const tally = new Map<string, number[]>();
      const lines = gunzipSync(readFileSync(join(runDir(name), 'evals', evalName, 'samples.jsonl.gz')))
        .toString('utf8')
        .split('\n')
        .filter(Boolean);
      for (const line of lines) {
        const s = JSON.parse(line) as { dataset: string; problemIndex: number; correct: boolean };
        const key = `${s.dataset}/${s.problemIndex}`;
        tally.set(key, [...(tally.get(key) ?? []), s.correct ? 1 : 0]);
      }
      return new Map([...tally].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length]));
    };
    const evalNameOf = (name: string, suffix = ''): string => {
      const last = readFileSync(join(runDir(name), 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { step: number; checkpointName?: string | null; eval?: unknown })
        .filter((m) => m.eval && (m.checkpointName ?? '').endsWith(suffix))
        .at(-1)!;
      return last.checkpointName ?? `step-${String(last.step).padStart(6, '0')}`;
    };
    const deltas = [...rates('truncation-lmin-seed7', evalNameOf('truncation-lmin-seed7')).keys()].map(
      (key) =>
        [7, 3].reduce(
          (sum, seed) =>
            sum +
            rates(`truncation-lmin-seed${seed}`, evalNameOf(`truncation-lmin-seed${seed}`)).get(key)! -
            rates(`siri-cosine-seed${seed}`, evalNameOf(`siri-cosine-seed${seed}`, '-Expanded')).get(key)!,
          0,
        ) / 2,
    );
    const meanDelta = deltas.reduce((a, b) => a + b, 0) / deltas.length;
    const sd2 = deltas.reduce((a, d) => a + (d - meanDelta) ** 2, 0) / (deltas.length - 1);
    assert.equal(cells('truncation-lmin final')[6], pct(Math.sqrt(sd2 / deltas.length)));
    // The console prints the same table; the report page has the section.
    assert.ok(output.includes(seedsMd.trim()), output);
    const html = readFileSync(join(dir, 'experiments', 'seeds', 'report', 'report.html'), 'utf8');
    assert.match(html, /Across training seeds/);
  });
});
