// The siri CLI's surface: --help lists the commands; bad flags give a one-line error and a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, siriBin } from '../helpers/temporal';

test('siri --help lists the commands', async () => {
  const { code, stdout } = await run(process.execPath, [siriBin, '--help']);
  assert.equal(code, 0);
  for (const command of ['server', 'worker', 'demo'])
    assert.match(stdout, new RegExp(`^\\s+${command}\\b`, 'm'));
});

test('an unknown flag is a one-line error with a non-zero exit', async () => {
  const { code, stdout, stderr } = await run(process.execPath, [siriBin, '--no-such-flag']);
  assert.notEqual(code, 0);
  assert.equal(stdout, '');
  assert.equal(stderr.trim().split('\n').length, 1, `expected one line, got: ${stderr}`);
  assert.match(stderr, /unknown option '--no-such-flag'/);
});

test('a bad value names the flag, in one line, without a stack trace', async () => {
  const { code, stderr } = await run(process.execPath, [siriBin, 'server', '--port', 'seventy']);
  assert.equal(code, 2);
  assert.equal(stderr.trim(), 'siri: --port must be a port number between 1 and 65535, got "seventy"');
});

test('the worker reports an unreachable server in one line', async () => {
  const { code, stderr } = await run(process.execPath, [siriBin, 'worker', '--address', '127.0.0.1:1'], {});
  assert.notEqual(code, 0);
  assert.match(stderr.trim(), /^siri: no Temporal server answered at 127\.0\.0\.1:1 within \d+ ms/);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
});
