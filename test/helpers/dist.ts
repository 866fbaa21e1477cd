import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './process.js';

const run = promisify(execFile);

/** The newest modification time under `dir` (files only). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/**
 * Builds dist/ when it is missing or older than a source: for the few tests that run what
 * production runs (`npm start` → `node dist/…`), so they never test a stale build. Everything
 * else runs the sources (`CLI`).
 */
export async function ensureBuilt(): Promise<void> {
  const entry = join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const inputs = [
    join(REPO_ROOT, 'src'),
    join(REPO_ROOT, 'tsconfig.build.json'),
    join(REPO_ROOT, 'scripts', 'build.mjs'),
  ];
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  const source = Math.max(...inputs.map((p) => (statSync(p).isDirectory() ? newest(p) : statSync(p).mtimeMs)));
  if (source > built) await run('npm', ['run', 'build'], { cwd: REPO_ROOT, timeout: 170_000 });
}
