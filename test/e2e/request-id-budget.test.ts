import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Issue 7, item 1: a client-chosen `x-request-id` must not let calls share a budget reservation.
// Reservations are keyed by the gateway's own call id; `x-request-id` is a label only.

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ADMIN = 'request-id-admin-key';
const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 24 };

interface Row {
  request_id: string;
  call_id: string | null;
  tenant: string | null;
  status: number;
  cost_micros: number | null;
}

async function start(): Promise<{ gw: TestGateway; rows: () => Row[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-reqid-'));
  dirs.push(dir);
  const file = join(dir, 'ledger.db');
  const gw = await startTestGateway({
    storage: { url: `sqlite:${file}` },
    admin: { apiKey: ADMIN },
    // Exact counts even on a loaded box: the quote's maximum is then exactly what each call reserves.
    budgets: { countBudgetMs: 1_000 },
    providers: { mock: { type: 'mock', scenario: { latencyMs: 30 } } },
    models: { 'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] } },
  });
  const rows = (): Row[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db
        .prepare('select request_id, call_id, tenant, status, cost_micros from requests order by id')
        .all() as Row[];
    } finally {
      db.close();
    }
  };
  return { gw, rows };
}

const post = (url: string, path: string, payload: unknown, headers: Record<string, string>) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });

/** The most one call can cost, from a quote (asked before any key exists: the gateway is open until then). */
async function maxCost(url: string): Promise<number> {
  const quote = (await (await post(url, '/v1/tollgate/quote', body, {})).json()) as {
    estimated_max_cost: { micros: number };
  };
  return quote.estimated_max_cost.micros;
}

/** A tenant with a key whose hard monthly budget fits `fits` calls costing at most `max` each. */
async function keyWithBudget(
  url: string,
  tenant: string,
  max: number,
  fits: number,
): Promise<{ key: string; limitMicros: number }> {
  const limitMicros = fits * max + Math.floor(max / 2);
  const usd = `${Math.floor(limitMicros / 1e6)}.${String(limitMicros % 1e6).padStart(6, '0')}`;
  const auth = { authorization: `Bearer ${ADMIN}` };
  assert.equal((await post(url, '/admin/v1/tenants', { id: tenant }, auth)).status, 201);
  const created = await post(url, '/admin/v1/keys', { tenant, budget: `${usd}/month` }, auth);
  assert.equal(created.status, 201);
  return { key: ((await created.json()) as { key: string }).key, limitMicros };
}

const call = (url: string, key: string, id: string) =>
  post(url, '/v1/chat/completions', body, { authorization: `Bearer ${key}`, 'x-request-id': id }).then(async (res) => ({
    status: res.status,
    echoed: res.headers.get('x-request-id'),
    code: ((await res.json()) as { error?: { code: string } }).error?.code,
  }));

void describe('x-request-id is a label, not a reservation key (hard budgets, memory store)', () => {
  void it('20 sequential calls reusing one x-request-id against a budget that fits 3: 3 admitted, spend ≤ budget', async (t) => {
    const { gw, rows } = await start();
    const { key, limitMicros } = await keyWithBudget(gw.url, 'acme', await maxCost(gw.url), 3);
    const results = [];
    for (let i = 0; i < 20; i++) results.push(await call(gw.url, key, 'same'));
    await gw.close();

    assert.equal(results.filter((r) => r.status === 200).length, 3, results.map((r) => r.status).join(','));
    assert.ok(results.filter((r) => r.status === 429).every((r) => r.code === 'budget_exceeded'));
    assert.ok(
      results.every((r) => r.echoed === 'same'),
      'the label is still echoed',
    );
    const ledger = rows().filter((r) => r.tenant === 'acme');
    assert.equal(ledger.length, 20);
    assert.equal(new Set(ledger.map((r) => r.call_id)).size, 20, 'every call has its own call id');
    assert.ok(ledger.every((r) => r.request_id === 'same' && /^call_[0-9a-f]{32}$/.test(r.call_id ?? '')));
    const spent = ledger.reduce((sum, r) => sum + (r.cost_micros ?? 0), 0);
    assert.ok(spent <= limitMicros, `spent ${spent} > limit ${limitMicros}`);
    t.diagnostic(`sequential: admitted 3 of 20, spent ${spent} of ${limitMicros} µ$`);
  });

  void it('40 concurrent calls reusing one x-request-id: 3 admitted, spend ≤ budget', async (t) => {
    const { gw, rows } = await start();
    const { key, limitMicros } = await keyWithBudget(gw.url, 'acme', await maxCost(gw.url), 3);
    const results = await Promise.all(Array.from({ length: 40 }, () => call(gw.url, key, 'same')));
    await gw.close();

    assert.equal(results.filter((r) => r.status === 200).length, 3, results.map((r) => r.status).join(','));
    const spent = rows().reduce((sum, r) => sum + (r.cost_micros ?? 0), 0);
    assert.ok(spent <= limitMicros, `spent ${spent} > limit ${limitMicros}`);
    t.diagnostic(`concurrent: admitted 3 of 40, spent ${spent} of ${limitMicros} µ$`);
  });

  void it("another tenant's x-request-id neither lends its reservation nor settles this tenant's", async () => {
    const { gw, rows } = await start();
    const max = await maxCost(gw.url);
    const a = await keyWithBudget(gw.url, 'tenant-a', max, 3);
    const b = await keyWithBudget(gw.url, 'tenant-b', max, 3);
    // B's calls are in flight, holding reservations, when A's calls with the same label arrive.
    const fromB = Array.from({ length: 3 }, () => call(gw.url, b.key, 'shared'));
    const fromA = [];
    for (let i = 0; i < 10; i++) fromA.push(await call(gw.url, a.key, 'shared'));
    const bResults = await Promise.all(fromB);
    // And B's later calls, after A settled under the same label, still find B's budget full.
    const bLater = await call(gw.url, b.key, 'shared');
    await gw.close();

    assert.equal(fromA.filter((r) => r.status === 200).length, 3, fromA.map((r) => r.status).join(','));
    assert.equal(bResults.filter((r) => r.status === 200).length, 3);
    assert.equal(bLater.status, 429);
    for (const [tenant, limit] of [
      ['tenant-a', a.limitMicros],
      ['tenant-b', b.limitMicros],
    ] as const) {
      const spent = rows()
        .filter((r) => r.tenant === tenant)
        .reduce((sum, r) => sum + (r.cost_micros ?? 0), 0);
      assert.ok(spent > 0 && spent <= limit, `${tenant}: spent ${spent} of ${limit}`);
    }
  });
});
