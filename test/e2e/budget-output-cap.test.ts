import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ConfigInput } from '../../src/config/schema.js';
import { startMockServer, type MockServer } from '../../src/mock/mock-server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Issue 7, item 5: without max_tokens a reservation assumes the model's output limit, and that
// limit must reach the upstream, or a long answer outspends the reservation and the budget.

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ADMIN = 'admin-output-cap-test-key';
/** $1 per million input tokens, $10,000 per million output: 1,000 output tokens cost $10. */
const price = { inputPerMTok: 1, outputPerMTok: 10_000, maxOutputTokens: 1_000 };
const messages = [{ role: 'user', content: 'Tell me about budgets, at length.' }];

interface Row {
  request_id: string;
  outcome: string;
  output_tokens: number;
  cost_micros: number | null;
}

interface Rig {
  mock: MockServer;
  gw: TestGateway;
  rows(): Row[];
  close(): Promise<void>;
}

/** The mock on one socket; a gateway on another with an OpenAI-wire and an Anthropic alias on it, ledger on SQLite. */
async function start(): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-cap-'));
  dirs.push(dir);
  const file = join(dir, 'ledger.db');
  const mock = await startMockServer({ port: 0 });
  const config: ConfigInput = {
    storage: { url: `sqlite:${file}` },
    admin: { apiKey: ADMIN },
    providers: {
      up: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream', forwardHeaders: ['x-mock-*'] },
      claude: { type: 'anthropic', baseUrl: mock.url, apiKey: 'sk-ant-upstream', forwardHeaders: ['x-mock-*'] },
    },
    models: {
      dear: { deployments: [{ provider: 'up', model: 'dear-1', price: { ...price, encoding: 'o200k_base' } }] },
      'dear-claude': { deployments: [{ provider: 'claude', model: 'claude-dear', price }] },
    },
  };
  const gw = await startTestGateway(config).catch(async (err: unknown) => {
    await mock.close();
    throw err;
  });
  let closed = false;
  return {
    mock,
    gw,
    rows() {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('select * from requests order by id').all() as Row[];
      } finally {
        db.close();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await gw.close();
      await mock.close();
    },
  };
}

const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
const formatUsd = (micros: number): string => `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;

interface QuotedBudget {
  id: string;
  limit_micros: number;
  spent_micros: number;
  reserved_micros: number;
}
interface Quote {
  estimated_max_cost: { micros: number };
  tokens: { output_max: number };
  budgets: QuotedBudget[];
}

async function quote(url: string, body: unknown, key: string): Promise<Quote> {
  const res = await post(url, '/v1/tollgate/quote', body, { authorization: `Bearer ${key}` });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as Quote;
}

/** A tenant's key with a hard monthly budget of `limitMicros`. */
async function keyWithBudget(url: string, tenant: string, limitMicros: number): Promise<string> {
  const admin = { authorization: `Bearer ${ADMIN}` };
  assert.equal((await post(url, '/admin/v1/tenants', { id: tenant }, admin)).status, 201);
  const res = await post(url, '/admin/v1/keys', { tenant, budget: `${formatUsd(limitMicros)}/month` }, admin);
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { key: string }).key;
}

/** The key's budget once every reservation has settled (settling runs after the last byte). */
async function settledBudget(url: string, body: unknown, key: string): Promise<QuotedBudget> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const budget = (await quote(url, body, key)).budgets[0]!;
    if (budget.reserved_micros === 0 || Date.now() > deadline) return budget;
    await new Promise((r) => setTimeout(r, 20));
  }
}

void describe('a hard budget bounds an answer the client did not cap (issue 7, item 5)', () => {
  for (const alias of ['dear', 'dear-claude']) {
    void it(`${alias}: no max_tokens, the upstream would write 3000 tokens → capped at the reservation's 1000; cost ≤ reservation, spend ≤ budget`, async (t) => {
      const rig = await start();
      try {
        const body = { model: alias, messages };
        // The budget fits one reservation and a cent: the call is admitted, a 3000-token answer is not affordable.
        const probeKey = await keyWithBudget(rig.gw.url, 'probe', 1_000_000_000);
        const reserved = (await quote(rig.gw.url, body, probeKey)).estimated_max_cost.micros;
        const limit = reserved + 10_000;
        const key = await keyWithBudget(rig.gw.url, 'acme', limit);

        const res = await post(rig.gw.url, '/v1/chat/completions', body, {
          authorization: `Bearer ${key}`,
          'x-request-id': `long-${alias}`,
          'x-mock-completion-tokens': '3000',
        });
        assert.equal(res.status, 200, await res.clone().text());
        const answer = (await res.json()) as {
          choices: { finish_reason: string }[];
          usage: { completion_tokens: number };
        };
        const budget = await settledBudget(rig.gw.url, body, key);
        await rig.close();

        const row = rig.rows().find((r) => r.request_id === `long-${alias}`)!;
        assert.ok(
          row.cost_micros !== null && row.cost_micros <= reserved,
          `cost ${row.cost_micros} > reserved ${reserved}`,
        );
        assert.equal(budget.spent_micros, row.cost_micros);
        assert.ok(budget.spent_micros <= limit, `spent ${budget.spent_micros} > limit ${limit}`);
        assert.equal(row.outcome, 'ok');
        assert.equal(row.output_tokens, 1_000);
        assert.equal(answer.choices[0]?.finish_reason, 'length', 'the upstream stopped at the limit it was sent');
        assert.equal(answer.usage.completion_tokens, 1_000, "the price's output limit, which the reservation covers");
        t.diagnostic(
          `${alias}: reserved ${formatUsd(reserved)}, cost ${formatUsd(row.cost_micros)}, budget spent ${formatUsd(budget.spent_micros)} of ${formatUsd(limit)}`,
        );
      } finally {
        await rig.close();
      }
    });
  }

  void it('a stream without max_tokens ends cleanly at the cap (finish_reason length, [DONE]) within its reservation', async (t) => {
    const rig = await start();
    try {
      const body = { model: 'dear', messages, stream: true, stream_options: { include_usage: true } };
      const probeKey = await keyWithBudget(rig.gw.url, 'probe', 1_000_000_000);
      const reserved = (await quote(rig.gw.url, body, probeKey)).estimated_max_cost.micros;
      const limit = reserved + 10_000;
      const key = await keyWithBudget(rig.gw.url, 'acme', limit);
      const res = await post(rig.gw.url, '/v1/chat/completions', body, {
        authorization: `Bearer ${key}`,
        'x-request-id': 'long-stream',
        'x-mock-completion-tokens': '3000',
      });
      assert.equal(res.status, 200);
      const events = (await res.text())
        .split('\n\n')
        .filter((e) => e.startsWith('data: '))
        .map((e) => e.slice(6));
      assert.equal(events.at(-1), '[DONE]', 'not cut in-band: the upstream stopped at the cap');
      const chunks = events.slice(0, -1).map(
        (e) =>
          JSON.parse(e) as {
            choices: { finish_reason: string | null }[];
            usage?: { completion_tokens: number } | null;
          },
      );
      assert.equal(chunks.flatMap((c) => c.choices).find((c) => c.finish_reason)?.finish_reason, 'length');
      assert.equal(chunks.at(-1)?.usage?.completion_tokens, 1_000);
      const budget = await settledBudget(rig.gw.url, body, key);
      await rig.close();
      const row = rig.rows().find((r) => r.request_id === 'long-stream')!;
      assert.equal(row.outcome, 'ok');
      assert.ok(
        row.cost_micros !== null && row.cost_micros <= reserved,
        `cost ${row.cost_micros} > reserved ${reserved}`,
      );
      assert.ok(budget.spent_micros <= limit);
      t.diagnostic(
        `stream: reserved ${reserved} µ$, cost ${row.cost_micros} µ$, spent ${budget.spent_micros} of ${limit}`,
      );
    } finally {
      await rig.close();
    }
  });

  void it('a soft budget alone sends no limit: the answer is as long as the upstream makes it', async () => {
    const rig = await start();
    try {
      await rig.gw.gateway.costs.repository.upsert({
        id: 'soft-only',
        scope: { kind: 'global' },
        window: 'daily',
        limitMicros: 1,
        action: 'soft',
      });
      // A key without a budget of its own: only the soft global one applies.
      const admin = { authorization: `Bearer ${ADMIN}` };
      assert.equal((await post(rig.gw.url, '/admin/v1/tenants', { id: 'acme' }, admin)).status, 201);
      const plain = (await (await post(rig.gw.url, '/admin/v1/keys', { tenant: 'acme' }, admin)).json()) as {
        key: string;
      };
      const res = await post(
        rig.gw.url,
        '/v1/chat/completions',
        { model: 'dear', messages },
        { authorization: `Bearer ${plain.key}`, 'x-mock-completion-tokens': '1500' },
      );
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-tollgate-budget-warning'), 'soft-only');
      const answer = (await res.json()) as {
        choices: { finish_reason: string }[];
        usage: { completion_tokens: number };
      };
      assert.equal(answer.choices[0]?.finish_reason, 'stop');
      assert.equal(answer.usage.completion_tokens, 1_500);
    } finally {
      await rig.close();
    }
  });
});
