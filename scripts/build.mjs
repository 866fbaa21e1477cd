#!/usr/bin/env node
// Builds dist/ from src/: a clean tsc build (ESM, .d.ts, source maps; `*.test.ts` excluded by
// tsconfig.build.json: test kits live in test/kits/, micro-benches in bench/micro/), then the data
// files the code reads beside itself.
// Run by `npm run build` and by `prepare` (so `npm install`, `npm ci` and `npm pack` build).
//
// `--prepare` (the prepare script): TypeScript is a devDependency, so a production install in a
// git clone (`npm ci --omit=dev`) has no compiler. Then this prints one line saying so and how
// to install for production, and exits 0 instead of failing the install with a stack trace.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Files read at run time by path (`new URL('./x.json', import.meta.url)`), which tsc does not copy. */
const ASSETS = ['pricing/prices.json'];

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  const how =
    'production installs use the packed tarball (npm pack), or `npm ci && npm run build` then `npm prune --omit=dev`';
  if (process.argv.includes('--prepare')) {
    const built = existsSync(join(root, 'dist'));
    console.error(
      built
        ? `tollgate: typescript is not installed (a devDependency): not rebuilding, keeping the existing dist/`
        : `tollgate: dist/ not built: typescript is not installed (a devDependency, skipped by --omit=dev); ${how}`,
    );
    process.exit(0);
  }
  console.error(`tollgate: cannot build: typescript is not installed (npm ci installs it); ${how}`);
  process.exit(1);
}
rmSync(join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
for (const asset of ASSETS) {
  const to = join(root, 'dist', asset);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(join(root, 'src', asset), to);
}
