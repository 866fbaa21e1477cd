import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { withPostgresSchema } from '../helpers/postgres.js';
import { withRedis } from '../helpers/redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

/**
 * Readiness against frozen dependencies (issue 7, items 9 and 10): a PostgreSQL or Redis that
 * accepts bytes and never answers (a TCP proxy in front of the real one, frozen: what SIGSTOP
 * on the server does) gives 503 within the readiness time box, naming the check; the body never
 * shows hosts or ports.
 */

const proxyTarget = (url: string): { host: string; port: number } => {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
};

const models = {
  providers: { mock: { type: 'mock' as const } },
  models: { m: { deployments: [{ provider: 'mock', model: 'mock-1' }] } },
};

/** GET /health/ready: status, body and how long it took. */
async function ready(
  gw: TestGateway,
): Promise<{ status: number; body: { status: string; checks: Record<string, string> }; text: string; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${gw.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as never, text, ms: Date.now() - started };
}

describe('readiness with frozen dependencies (real PostgreSQL and Redis behind a proxy)', () => {
  it('a frozen PostgreSQL → /health/ready 503 within 1.5 s naming `storage`; a cut one → `unreachable`, no host:port', (t) =>
    withPostgresSchema(t, async ({ url, schema }) => {
      const proxy: TcpProxy = await startTcpProxy(proxyTarget(url));
      const proxied = new URL(url);
      proxied.port = String(proxy.port);
      const gw = await startTestGateway({ storage: { url: proxied.toString(), schema }, ...models });
      try {
        assert.deepEqual((await ready(gw)).body, { status: 'ok', checks: { storage: 'ok' } });
        proxy.freeze();
        const timings: number[] = [];
        for (let i = 0; i < 3; i++) {
          const frozen = await ready(gw);
          timings.push(frozen.ms);
          assert.equal(frozen.status, 503);
          assert.deepEqual(frozen.body, { status: 'unavailable', checks: { storage: 'timeout' } });
        }
        console.log(`frozen PostgreSQL: /health/ready 503 in ${timings.join(', ')} ms`);
        assert.ok(Math.max(...timings) < 1_500, `answered in ${timings.join(', ')} ms`);
        proxy.thaw();
        assert.equal((await ready(gw)).status, 200);
        await proxy.cut();
        const cut = await ready(gw);
        assert.equal(cut.status, 503);
        assert.deepEqual(cut.body, { status: 'unavailable', checks: { storage: 'unreachable' } });
        assert.ok(!cut.text.includes(String(proxy.port)) && !cut.text.includes('127.0.0.1'), cut.text);
      } finally {
        await proxy.close();
        await gw.close();
      }
    }));

  it('a frozen Redis holding the budget counters → /health/ready 503 within 1.5 s naming `redis`', (t) =>
    withRedis(t, async ({ url, prefix }) => {
      const proxy = await startTcpProxy(proxyTarget(url));
      const gw = await startTestGateway({
        budgets: { store: 'redis' },
        // Slower than the readiness time box, so it is the box that answers.
        redis: { url: `redis://127.0.0.1:${proxy.port}`, keyPrefix: prefix, commandTimeoutMs: 3_000 },
        ...models,
      });
      try {
        assert.deepEqual((await ready(gw)).body, { status: 'ok', checks: { storage: 'ok', redis: 'ok' } });
        proxy.freeze();
        const frozen = await ready(gw);
        console.log(`frozen Redis: /health/ready ${frozen.status} in ${frozen.ms} ms`);
        assert.equal(frozen.status, 503);
        assert.deepEqual(frozen.body, { status: 'unavailable', checks: { storage: 'ok', redis: 'timeout' } });
        assert.ok(frozen.ms < 1_500, `answered in ${frozen.ms} ms`);
        proxy.thaw();
        assert.equal((await ready(gw)).status, 200);
      } finally {
        proxy.thaw();
        await gw.close();
        await proxy.close();
      }
    }));
});
