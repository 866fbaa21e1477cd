import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureBuilt } from '../helpers/dist.js';
import { CLI, childEnv, freePort, startProcess, waitForHttp, type RunningProcess } from '../helpers/process.js';

// Issue 7, item 10: `npm start` passes SIGTERM on to the gateway; one Ctrl-C drains and exits 0,
// a second signal during the drain exits at once.

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A config on a free port in a fresh folder (its path is unique: it finds the process later). */
async function tempConfig(server: Record<string, number> = {}): Promise<{ file: string; base: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-signals-'));
  dirs.push(dir);
  const port = await freePort();
  const file = join(dir, 'tollgate.yaml');
  writeFileSync(
    file,
    [
      'server:',
      `  port: ${port}`,
      ...Object.entries(server).map(([k, v]) => `  ${k}: ${v}`),
      `storage: { url: "sqlite:${join(dir, 'ledger.db')}" }`,
      'log: { level: info, format: json }',
      '',
    ].join('\n'),
  );
  return { file, base: `http://127.0.0.1:${port}` };
}

/** Pids of live processes whose command line mentions `text` (zombies excluded). */
function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmdline.includes(text) && state !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Whether anything still answers at `base` (a refused connection is the answer "no"). */
async function answers(base: string): Promise<boolean> {
  try {
    await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return condition();
}

/** `npm start -- --config <file>` in its own process group (as a shell runs a foreground job). */
function npmStart(file: string): RunningProcess {
  return startProcess('npm', ['start', '--', '--config', file], {
    env: childEnv({ npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' }),
    detached: true,
  });
}

/** Kills whatever a failed test left behind (by the unique config path). */
function reap(file: string): void {
  for (const pid of processesWith(file)) process.kill(pid, 'SIGKILL');
}

void describe('signals (real processes)', () => {
  // `npm start` runs the build (`node bin/tollgate.js serve` → dist/), as production does.
  before(ensureBuilt, { timeout: 180_000 });
  void it('`npm start` + SIGTERM to npm: the gateway drains and exits 0, its port closes, no orphan remains', async (t) => {
    const { file, base } = await tempConfig();
    const npm = npmStart(file);
    try {
      await waitForHttp(`${base}/health/ready`, npm, 30_000);
      const gateways = processesWith(file).filter((pid) => pid !== npm.child.pid);
      assert.ok(gateways.length >= 1, 'the gateway process runs');
      npm.kill('SIGTERM');
      const exit = await npm.exited;
      assert.ok(await until(async () => !(await answers(base)), 20_000), 'the gateway still answers');
      assert.ok(
        await until(() => processesWith(file).length === 0, 10_000),
        `orphans: ${processesWith(file).join(',')}`,
      );
      assert.deepEqual(exit, { code: 0, signal: null }, npm.output());
      assert.match(npm.output(), /shutdown complete/);
      t.diagnostic(`npm exit ${JSON.stringify(exit)}; gateway pids ${gateways.join(',')} gone`);
    } finally {
      reap(file);
    }
  });

  void it('Ctrl-C on `npm start` (SIGINT to the whole group, forwarded again by npm): one drain, exit 0', async () => {
    const { file, base } = await tempConfig();
    const npm = npmStart(file);
    try {
      await waitForHttp(`${base}/health/ready`, npm, 30_000);
      process.kill(-npm.child.pid!, 'SIGINT');
      const exit = await npm.exited;
      assert.ok(await until(() => processesWith(file).length === 0, 10_000), 'no orphan');
      assert.deepEqual(exit, { code: 0, signal: null }, npm.output());
      assert.match(npm.output(), /shutdown complete/);
      assert.doesNotMatch(npm.output(), /second signal/);
    } finally {
      reap(file);
    }
  });

  void it('one SIGINT to `tollgate serve`: readiness 503 while it drains, then exit 0', async () => {
    const { file, base } = await tempConfig({ drainDelayMs: 1_500 });
    const gateway = startProcess(process.execPath, [CLI, 'serve', '--config', file], { env: childEnv() });
    try {
      await waitForHttp(`${base}/health/ready`, gateway);
      gateway.kill('SIGINT');
      assert.ok(await until(async () => (await fetch(`${base}/health/ready`)).status === 503, 5_000));
      const exit = await gateway.exited;
      assert.deepEqual(exit, { code: 0, signal: null }, gateway.output());
      assert.match(gateway.output(), /"signal":"SIGINT","msg":"shutdown requested"/);
      assert.match(gateway.output(), /shutdown complete/);
      assert.doesNotMatch(gateway.output(), /second signal/);
    } finally {
      reap(file);
    }
  });

  void it('a second signal during the drain exits 1 at once, without waiting for the drain', async () => {
    const { file, base } = await tempConfig({ drainDelayMs: 60_000 });
    const gateway = startProcess(process.execPath, [CLI, 'serve', '--config', file], { env: childEnv() });
    try {
      await waitForHttp(`${base}/health/ready`, gateway);
      gateway.kill('SIGTERM');
      assert.ok(await until(async () => (await fetch(`${base}/health/ready`)).status === 503, 5_000));
      await new Promise((r) => setTimeout(r, 700)); // past the window in which a repeat is the same signal
      gateway.kill('SIGINT');
      const exit = await Promise.race([
        gateway.exited,
        new Promise<null>((r) => setTimeout(() => r(null), 20_000).unref()),
      ]);
      assert.deepEqual(exit, { code: 1, signal: null }, gateway.output());
      assert.match(gateway.output(), /second signal: exiting now/);
      assert.doesNotMatch(gateway.output(), /shutdown complete/);
    } finally {
      reap(file);
    }
  });
});
