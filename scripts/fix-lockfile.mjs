#!/usr/bin/env node
// Run after `npm install <pkg>`: drops optional platform dependencies that the registry this project
// installs from does not serve (e.g. @swc/core's darwin/win32 builds), so `npm ci` accepts the lockfile.
// Those packages are only ever used on other platforms; nothing on Linux x64 changes.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const names = Object.keys(lock.packages);
const removed = [];
for (const [name, entry] of Object.entries(lock.packages)) {
  for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
    if (!names.some((n) => n.endsWith(`node_modules/${dep}`))) {
      delete entry.optionalDependencies[dep];
      removed.push(`${name || '(root)'} → ${dep}`);
    }
  }
}
writeFileSync(path, JSON.stringify(lock, null, 2) + '\n');
console.log(
  removed.length
    ? `fix-lockfile: removed ${removed.length} unresolvable optional deps`
    : 'fix-lockfile: nothing to do',
);
