#!/usr/bin/env node
// Runs every test file with node's test runner through tsx. Node 20's `--test` takes no
// globs, so the file list is gathered here. Pass paths or substrings to run a subset:
//   npm test -- src/config        npm test -- test/e2e/shutdown
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const roots = ['src', 'test'];
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(relative(process.cwd(), path));
  }
};
for (const root of roots) walk(root);
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
selected.sort();
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
const reporter = process.stdout.isTTY ? 'spec' : 'tap';
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-reporter=${reporter}`,
    '--test-concurrency=2',
    // A test that leaks a server or a timer must fail, not hold the suite open until CI's deadline.
    '--test-force-exit',
    '--test-timeout=180000',
    ...selected,
  ],
  { stdio: 'inherit', env: { ...process.env, TOLLGATE_LOG_LEVEL: process.env.TOLLGATE_LOG_LEVEL ?? 'silent' } },
);
process.exit(result.status ?? 1);
