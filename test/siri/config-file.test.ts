// Run config files (YAML and JSON): loading, preset overrides, one-line errors naming the file and
// every bad field path, and the shipped configs/*.yaml agreeing with the presets in siri/config.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../../cli/errors';
import { loadRunConfigFile } from '../../cli/config-file';
import { PRESETS, presetNames } from '../../siri/config';

const dir = mkdtempSync(join(tmpdir(), 'siri-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadRunConfigFile', () => {
  test('configs/<preset>.yaml equal the presets', () => {
    for (const name of presetNames) {
      assert.deepEqual(loadRunConfigFile(join('configs', `${name}.yaml`)), PRESETS[name]);
    }
  });

  test('YAML with a preset and overrides, and the same as JSON', () => {
    const yaml = write(
      'run.yaml',
      'preset: toy\nlr: 3.0e-5\nschedule:\n  kind: stair\n  lMax: 300\n  lMin: 100\n  cycle: 10\n',
    );
    const fromYaml = loadRunConfigFile(yaml);
    assert.equal(fromYaml.lr, 3e-5);
    assert.deepEqual(fromYaml.schedule, { kind: 'stair', lMax: 300, lMin: 100, cycle: 10 });
    const json = write(
      'run.json',
      JSON.stringify({
        preset: 'toy',
        lr: 3e-5,
        schedule: { kind: 'stair', lMax: 300, lMin: 100, cycle: 10 },
      }),
    );
    assert.deepEqual(loadRunConfigFile(json), fromYaml);
  });

  test('invalid fields: one CliError line with the file and every field path', () => {
    const path = write('bad.yaml', 'preset: toy\nschedule: { lMax: -5 }\ndevice: tpu\nepochs: 3\n');
    assert.throws(
      () => loadRunConfigFile(path),
      (err: unknown) => {
        assert.ok(err instanceof CliError);
        assert.equal(
          err.message,
          `${path}: invalid run config: schedule.lMax: expected a number >= 1, got -5; ` +
            'schedule.lMin: expected lMin <= lMax (-5), got 48; ' +
            'device: expected "cpu" | "cuda", got "tpu"; epochs: unknown key (not allowed here)',
        );
        return true;
      },
    );
  });

  test('syntax errors name the file (and the line for YAML); a missing file is one line too', () => {
    const yaml = write('broken.yaml', 'preset: toy\nschedule: { lMax: 5\n');
    assert.throws(
      () => loadRunConfigFile(yaml),
      (err: unknown) => {
        assert.ok(err instanceof CliError);
        assert.match(
          err.message,
          new RegExp(
            `^${yaml.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid YAML \\(line \\d+, column \\d+\\)`,
          ),
        );
        return true;
      },
    );
    const json = write('broken.json', '{"preset": "toy",');
    assert.throws(() => loadRunConfigFile(json), /broken\.json: not valid JSON/);
    assert.throws(
      () => loadRunConfigFile(join(dir, 'absent.yaml')),
      /cannot read run config .*absent\.yaml: no such file/,
    );
  });
});
