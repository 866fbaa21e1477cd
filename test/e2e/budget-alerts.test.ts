import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { startTestGateway } from '../helpers/gateway.js';

interface Delivery {
  status: number;
  body: {
    type: string;
    text: string;
    threshold: number;
    budget: { id: string };
    spentMicros: number;
    windowKey: string;
  };
}

/** A webhook receiver on 127.0.0.1 that refuses its first POST (503) to exercise retries. */
async function receiver() {
  const deliveries: Delivery[] = [];
  let calls = 0;
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      calls++;
      const status = calls === 1 ? 503 : 204;
      deliveries.push({ status, body: JSON.parse(data) as Delivery['body'] });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    deliveries,
    accepted: () => deliveries.filter((d) => d.status === 204).map((d) => d.body),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

void describe('usage alerts', () => {
  void it('POSTs each threshold (50, 80, 100%) exactly once per window, with a Slack-compatible text', async () => {
    const hook = await receiver();
    const gw = await startTestGateway({
      providers: { mock: { type: 'mock' } },
      models: { 'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] } },
      budgets: {
        limits: [{ id: 'team-soft', tenant: 'default', window: 'monthly', limitUsd: '0.0001', action: 'soft' }],
        alerts: { webhookUrl: hook.url, backoffMs: 10, headers: { authorization: 'Bearer hook-token' } },
      },
    });
    try {
      const call = () =>
        fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'One more, please.' }] }),
        }).then((r) => r.status);
      // ~17 µ$ a call against 100 µ$: past 50% on the 3rd call, 80% on the 5th, 100% on the 6th.
      for (let i = 0; i < 12; i++) assert.equal(await call(), 200, 'a soft budget never refuses');
      await until(() => hook.accepted().length >= 3);
      for (let i = 0; i < 3; i++) await call();
      await new Promise((r) => setTimeout(r, 300));

      const accepted = hook.accepted();
      // Deliveries run concurrently (and the refused one was retried): compare as a set.
      assert.deepEqual(
        accepted.map((a) => a.threshold).sort((a, b) => a - b),
        [50, 80, 100],
      );
      assert.equal(hook.deliveries.length, 4, 'one refused attempt, retried, then one POST per threshold');
      for (const alert of accepted) {
        assert.equal(alert.type, 'budget.threshold');
        assert.equal(alert.budget.id, 'team-soft');
        assert.match(
          alert.text,
          new RegExp(
            `^Tollgate: budget "team-soft" \\(tenant default, soft\\) reached ${alert.threshold}% monthly window \\d{4}-\\d{2}: \\$0\\.\\d+ of \\$0\\.0001\\.$`,
          ),
        );
        assert.ok(alert.spentMicros >= alert.threshold, 'limit is 100 µ$: spent µ$ = percent');
      }
    } finally {
      await gw.close();
      await hook.close();
    }
  });
});
