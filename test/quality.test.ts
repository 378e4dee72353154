// Quality gates inside `npm test`: strict typecheck, ESLint (including the architecture rules that keep
// Node APIs out of siri/, grader/ and workflows/) and Prettier, each over the whole project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { projectRoot, run } from './helpers/temporal';

const bin = (name: string): string => join(projectRoot, 'node_modules', '.bin', name);

test('typecheck: tsc --noEmit (strict)', { timeout: 300_000 }, async () => {
  const { code, stdout, stderr } = await run(bin('tsc'), ['--noEmit', '-p', '.']);
  assert.equal(code, 0, stdout + stderr);
});

test('lint: eslint .', { timeout: 300_000 }, async () => {
  const { code, stdout, stderr } = await run(bin('eslint'), ['.', '--max-warnings', '0']);
  assert.equal(code, 0, stdout + stderr);
});

test('format: prettier --check .', { timeout: 120_000 }, async () => {
  const { code, stdout, stderr } = await run(bin('prettier'), ['--check', '.']);
  assert.equal(code, 0, stdout + stderr);
});
