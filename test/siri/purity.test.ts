// siri/ is imported by Temporal workflow code, which must be deterministic and cannot use Node APIs:
// scan every siri/**/*.ts for Node built-ins, non-relative imports other than zod, process, Date,
// Math.random, timers and the like (comments are ignored), and check the scanner itself catches them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const ALLOWED_PACKAGES = new Set(['zod']);
const FORBIDDEN_GLOBALS: [RegExp, string][] = [
  [/\bprocess\s*[.[]/, 'process'],
  [/\bDate\b/, 'Date'],
  [/\bMath\s*\.\s*random\b/, 'Math.random'],
  [/\bperformance\s*\.\s*now\b/, 'performance.now'],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, 'timers'],
  [/\brequire\s*\(/, 'require'],
  [/\bBuffer\b/, 'Buffer'],
  [/\bcrypto\s*\./, 'crypto'],
  [/\bfetch\s*\(/, 'fetch'],
  [/\b__dirname\b|\b__filename\b|\bimport\.meta\b/, 'module location'],
];

/** Removes block and line comments (string contents that look like comments are rare in siri/). */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1');
}

export function purityViolations(source: string): string[] {
  const code = stripComments(source);
  const found: string[] = [];
  const specifiers = [
    ...code.matchAll(/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]/g),
  ].map((m) => m[1] ?? '');
  for (const spec of specifiers) {
    if (spec.startsWith('./') || spec.startsWith('../')) continue;
    if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0] ?? '')) {
      found.push(`imports Node built-in "${spec}"`);
    } else if (!ALLOWED_PACKAGES.has(spec))
      found.push(`imports package "${spec}" (allowed: ${[...ALLOWED_PACKAGES].join(', ')})`);
  }
  for (const [pattern, name] of FORBIDDEN_GLOBALS) if (pattern.test(code)) found.push(`uses ${name}`);
  return found;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? tsFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('siri/ stays pure', () => {
  test('no Node APIs, I/O, clocks or randomness in siri/**/*.ts', () => {
    const files = tsFiles('siri');
    assert.ok(files.length >= 5, `found ${files.length} files`);
    const problems = files.flatMap((f) =>
      purityViolations(readFileSync(f, 'utf8')).map((p) => `${relative('.', f)}: ${p}`),
    );
    assert.deepEqual(problems, []);
  });

  test('the scanner catches each kind of violation and ignores comments', () => {
    const cases: [string, RegExp][] = [
      ["import { readFileSync } from 'node:fs';", /Node built-in "node:fs"/],
      ["import path from 'path';", /Node built-in "path"/],
      ["import * as cp from 'child_process';", /Node built-in "child_process"/],
      ["export { x } from 'node:os';", /Node built-in "node:os"/],
      ["const m = await import('fs/promises');", /Node built-in "fs\/promises"/],
      ["import { v4 } from 'uuid';", /package "uuid"/],
      ['const seed = Date.now();', /uses Date/],
      ['const r = Math.random();', /uses Math\.random/],
      ['const env = process.env.X;', /uses process/],
      ['setTimeout(() => 1, 5);', /uses timers/],
    ];
    for (const [snippet, expected] of cases)
      assert.match(purityViolations(snippet).join('\n'), expected, snippet);
    assert.deepEqual(
      purityViolations("// no Date or Math.random here\n/* process.env */\nimport { z } from 'zod';"),
      [],
    );
  });
});
