#!/usr/bin/env node
// Development entry: runs the TypeScript sources through tsx's loader, no build step between a
// change and a run. Tests spawn this one, so they never run a stale dist/.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
