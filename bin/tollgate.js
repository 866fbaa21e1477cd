#!/usr/bin/env node
// The `tollgate` command: runs the compiled JavaScript in dist/ with plain node (`npm install`
// builds it; after changing src/, run `npm run build`, or use bin/tollgate-dev.js / `npm run dev`).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('tollgate: dist/ is not built; run `npm run build` (or `npm install`) first.');
  process.exit(1);
}
await import(main.href);
