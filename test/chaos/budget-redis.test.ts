import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { ConfigInput } from '../../src/config/schema.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { freePort, startProcess, type RunningProcess } from '../helpers/process.js';
import { deleteKeys, withRedis } from '../helpers/redis.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-chaos-'));
  dirs.push(dir);
  return dir;
};

const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Chaos, politely.' }], max_tokens: 24 };
const call = (gw: TestGateway) =>
  fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (res) => ({
    status: res.status,
    headers: res.headers,
    error: ((await res.json()) as { error?: { code: string } }).error?.code,
  }));

function spentInLedger(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('select coalesce(sum(cost_micros), 0) as s from requests').get() as { s: number }).s;
  } finally {
    db.close();
  }
}

function config(file: string, redis: { url: string; prefix: string }, budget: Record<string, unknown>): ConfigInput {
  return {
    storage: { url: `sqlite:${file}` },
    redis: { url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 300 },
    providers: { mock: { type: 'mock' } },
    models: { 'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] } },
    budgets: { limits: [{ id: 'chaos', tenant: 'default', window: 'daily', ...budget }] as never },
  };
}

/** A private redis-server on a free port, so it can be killed and restarted; null (skipped) if there is none. */
async function privateRedis(
  t: TestContext,
): Promise<{ url: string; start(): Promise<void>; stop(): Promise<void> } | null> {
  if (!existsSync('/usr/bin/redis-server')) {
    if (process.env.CI === 'true') throw new Error('redis-server not installed (CI=true: chaos tests may not skip)');
    t.skip('redis-server not installed');
    return null;
  }
  const port = await freePort();
  let proc: RunningProcess | null = null;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = startProcess('/usr/bin/redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no']);
      const deadline = Date.now() + 10_000;
      while (!proc.output().includes('Ready to accept connections')) {
        if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${proc.output()}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (!proc) return;
      proc.kill('SIGKILL');
      await proc.exited;
      proc = null;
    },
  };
}

void describe('budgets when Redis misbehaves', () => {
  void it('Redis loses its counters: they are reseeded from the ledger, and the budget still holds', (t) =>
    withRedis(t, async (redis) => {
      const file = join(tempDir(), 'ledger.db');
      // ~17 µ$ reserved per call (24 output tokens max), ~10 calls fit in 170 µ$.
      const gw = await startTestGateway(config(file, redis, { limitUsd: '0.00017' }));
      try {
        for (let i = 0; i < 5; i++) assert.equal((await call(gw)).status, 200);
        await new Promise((r) => setTimeout(r, 100)); // settles land in Redis
        const wiped = await deleteKeys(redis.redis, redis.prefix);
        assert.ok(wiped > 0, 'the counters existed and are gone');

        let admitted = 5;
        for (let i = 0; i < 20; i++) {
          const res = await call(gw);
          if (res.status === 200) admitted++;
          else assert.equal(res.error, 'budget_exceeded');
        }
        await gw.close();
        assert.ok(admitted <= 11, `admitted ${admitted}: the reseeded counter remembered the first 5 calls`);
        assert.ok(spentInLedger(file) <= 170, `spent ${spentInLedger(file)} µ$ of 170`);
      } finally {
        await gw.close();
      }
    }));

  void it('Redis down: a fail-closed budget refuses with a retryable 503, a fail-open one lets calls through; recovery is automatic', async (t) => {
    const server = await privateRedis(t);
    if (!server) return;
    await server.start();
    const dir = tempDir();
    const space = { url: server.url, prefix: 'chaos:' };
    const closed = await startTestGateway(config(join(dir, 'closed.db'), space, { limitUsd: 1 }));
    const open = await startTestGateway(
      config(join(dir, 'open.db'), { ...space, prefix: 'chaos-open:' }, { limitUsd: 1, failOpen: true }),
    );
    try {
      assert.equal((await call(closed)).status, 200);
      assert.equal((await call(open)).status, 200);

      await server.stop();
      const refused = await call(closed);
      assert.equal(refused.status, 503);
      assert.equal(refused.error, 'budget_unavailable');
      assert.equal(refused.headers.get('x-should-retry'), null, 'retryable: the SDKs may retry it');
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal((await call(open)).status, 200, 'failOpen: true lets calls through unmetered');

      await server.start(); // an empty Redis: counters are reseeded from the ledger
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (status !== 200 && Date.now() < deadline) {
        status = (await call(closed)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, 'the client reconnects by itself');
    } finally {
      await closed.close();
      await open.close();
      await server.stop();
    }
  });
});
