// The native addon loads, reports its build, and turns C++ exceptions into JS Errors without crashing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineInfo, setNumThreads, throwNative } from '../../native';
import { projectRoot, run } from '../helpers/temporal';

test('engineInfo reports the torch version from the venv and the CUDA build flag', async () => {
  const info = engineInfo();
  const py = await run(join(projectRoot, '.venv', 'bin', 'python'), [
    '-c',
    'import torch; print(torch.__version__)',
  ]);
  assert.equal(info.torchVersion, py.stdout.trim().split('+')[0]);
  const builtWith = readFileSync(join(projectRoot, 'native', 'build', '.siri-built-with'), 'utf8')
    .trim()
    .split(' ');
  assert.equal(info.builtWithCuda, builtWith[1] === 'ON');
  assert.equal(typeof info.cudaAvailable, 'boolean');
  if (!info.cudaAvailable) assert.equal(info.cudaDeviceCount, 0);
  assert.ok(Number.isInteger(info.threads) && info.threads >= 1);
});

test('a std::exception in C++ becomes a JS Error with its message', () => {
  assert.throws(() => throwNative('std'), { message: 'siri native: requested failure (std)' });
});

test('a libtorch (c10::Error) failure becomes a JS Error with the torch message', () => {
  assert.throws(
    () => throwNative('torch'),
    /siri native: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/,
  );
});

test('setNumThreads validates its argument and changes the thread count', () => {
  const before = engineInfo().threads;
  assert.throws(() => setNumThreads(0), /n must be >= 1, got 0/);
  setNumThreads(1);
  assert.equal(engineInfo().threads, 1);
  setNumThreads(before);
  assert.equal(engineInfo().threads, before);
});
