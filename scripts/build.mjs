#!/usr/bin/env node
// Builds dist/ from src/: a clean tsc build (ESM, .d.ts, source maps; `*.test.ts` excluded by
// tsconfig.build.json: test kits live in test/kits/, micro-benches in bench/micro/), then the data
// files the code reads beside itself.
// Run by `npm run build` and by `prepare` (so `npm install`, `npm ci` and `npm pack` build).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Files read at run time by path (`new URL('./x.json', import.meta.url)`), which tsc does not copy. */
const ASSETS = ['pricing/prices.json'];

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
for (const asset of ASSETS) {
  const to = join(root, 'dist', asset);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(join(root, 'src', asset), to);
}
