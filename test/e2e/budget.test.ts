import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { encodeChat } from 'gpt-tokenizer/model/gpt-4o';
import OpenAI from 'openai';
import type { ConfigInput } from '../../src/config/schema.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Row {
  request_id: string;
  key_id: string | null;
  tenant: string | null;
  status: number;
  outcome: string;
  error_code: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_micros: number | null;
  price_version: string | null;
  estimated: number;
  alias: string;
  tags: string | null;
}

/** A gateway on a fresh SQLite file, so the ledger can be read after `close()` has flushed it. */
async function start(config: ConfigInput): Promise<{ gw: TestGateway; rows: () => Row[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-budget-'));
  dirs.push(dir);
  const file = join(dir, 'ledger.db');
  const gw = await startTestGateway({ storage: { url: `sqlite:${file}` }, ...config });
  return {
    gw,
    rows: () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('select * from requests order by id').all() as Row[];
      } finally {
        db.close();
      }
    },
  };
}

const messages = [{ role: 'user' as const, content: 'Tell me about budgets, briefly.' }];
const ADMIN = 'admin-budget-test-key';
/** Integer micro-dollars as the decimal dollars the budget notation takes (`3215` → `0.003215`). */
const formatUsd = (micros: number): string => `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
const admin = async (url: string, path: string, body: unknown) => {
  const res = await post(url, `/admin/v1${path}`, body, { authorization: `Bearer ${ADMIN}` });
  return { status: res.status, body: await res.json() };
};
const post = (url: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function quote(
  url: string,
  body: unknown,
): Promise<{ estimated_max_cost: { micros: number } } & Record<string, unknown>> {
  const res = await post(url, '/v1/tollgate/quote', body);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as never;
}

void describe('budgets, end to end (one process, memory store)', () => {
  void it('200 concurrent calls against a hard key budget that fits 50: spend ≤ budget, exactly the admitted calls succeed', async (t) => {
    const { gw, rows } = await start({
      admin: { apiKey: ADMIN },
      budgets: { countBudgetMs: 1_000 }, // exact counts on a loaded box: the quote's maximum is what each call reserves
      providers: { mock: { type: 'mock', scenario: { latencyMs: 1_500 } } },
      models: { 'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] } },
    });
    // max_tokens = what the mock writes (24): a settle frees (almost) nothing, so the admitted count
    // does not depend on how fast the 200 requests arrive.
    const body = { model: 'gpt-4o-mini', messages, max_tokens: 24 };
    const max = (await quote(gw.url, body)).estimated_max_cost.micros;
    const limitMicros = 50 * max + Math.floor(max / 2);
    // A virtual key created with its budget (`tollgate keys create --budget <usd>/month` does the same).
    assert.equal((await admin(gw.url, '/tenants', { id: 'acme' })).status, 201);
    const created = await admin(gw.url, '/keys', { tenant: 'acme', budget: `${formatUsd(limitMicros)}/month` });
    assert.equal(created.status, 201);
    const { key, id: keyId } = created.body as { key: string; id: string };
    const budgetId = `key:${keyId}:monthly`;

    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        post(gw.url, '/v1/chat/completions', body, { 'x-request-id': `c-${i}`, authorization: `Bearer ${key}` }).then(
          async (res) => ({
            status: res.status,
            retry: res.headers.get('x-should-retry'),
            budget: res.headers.get('x-tollgate-budget'),
            body: (await res.json()) as { error?: { code: string; message: string } },
          }),
        ),
      ),
    );
    await gw.close();

    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    assert.equal(ok.length + refused.length, 200, `unexpected statuses: ${responses.map((r) => r.status).join(',')}`);
    assert.ok(ok.length >= 50 && ok.length <= 52, `admitted ${ok.length}`);
    for (const r of refused) {
      assert.equal(r.body.error?.code, 'budget_exceeded');
      assert.equal(r.retry, 'false');
      assert.equal(r.budget, budgetId);
      assert.match(
        r.body.error?.message ?? '',
        new RegExp(`^Budget "${budgetId}" \\(key ${keyId}, monthly\\) would be exceeded`),
      );
    }
    const ledger = rows().filter((r) => r.request_id.startsWith('c-'));
    assert.equal(ledger.length, 200);
    assert.ok(ledger.every((r) => r.key_id === keyId && r.tenant === 'acme'));
    assert.equal(ledger.filter((r) => r.outcome === 'ok' && r.status === 200).length, ok.length);
    assert.equal(ledger.filter((r) => r.error_code === 'budget_exceeded').length, refused.length);
    const spent = ledger.reduce((sum, r) => sum + (r.cost_micros ?? 0), 0);
    assert.ok(spent <= limitMicros, `spent ${spent} > limit ${limitMicros}`);
    assert.ok(spent > 0);
    t.diagnostic(`admitted ${ok.length} of 200; spent ${spent} of ${limitMicros} µ$`);
    assert.ok(ledger.every((r) => r.price_version !== null));
  });

  void it("prices a streamed call from the upstream's usage, whether or not the client asked for it", async () => {
    const { gw, rows } = await start({
      providers: { mock: { type: 'mock' } },
      models: { 'gpt-4o': { deployments: [{ provider: 'mock', model: 'gpt-4o' }] } },
    });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    let usage: OpenAI.CompletionUsage | undefined;
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } },
      { headers: { 'x-request-id': 'with-usage' } },
    );
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    const silent = await client.chat.completions.create(
      { model: 'gpt-4o', messages, stream: true },
      { headers: { 'x-request-id': 'without-usage' } },
    );
    for await (const chunk of silent) assert.equal(chunk.usage, undefined);
    await gw.close();

    // gpt-4o: $2.50 in, $10.00 out per million → 2.5 µ$ and 10 µ$ per token, rounded up per call.
    const expected = Math.ceil((usage!.prompt_tokens * 2_500_000 + usage!.completion_tokens * 10_000_000) / 1_000_000);
    for (const id of ['with-usage', 'without-usage']) {
      const row = rows().find((r) => r.request_id === id)!;
      assert.equal(row.estimated, 0, 'priced from the upstream usage, not estimated');
      assert.equal(row.input_tokens, usage!.prompt_tokens);
      assert.equal(row.output_tokens, usage!.completion_tokens);
      assert.equal(row.cost_micros, expected);
      assert.match(row.price_version ?? '', /^\d{4}-\d{2}-\d{2}/);
    }
  });

  void it('cuts a stream that outgrows its reservation with an in-band budget_exceeded event, priced for what was streamed', async () => {
    // The model's table entry claims at most 16 output tokens; this upstream streams 200 (it
    // ignores the limit the gateway sends, 16): the reservation cannot cover it and the budget
    // has no room to extend. Only `meterStreams: always` reads a stream that was sent a limit.
    const price = { inputPerMTok: 1, outputPerMTok: 4, maxOutputTokens: 16, encoding: 'o200k_base' as const };
    const { gw, rows } = await start({
      budgets: { meterStreams: 'always' },
      providers: { mock: { type: 'mock', scenario: { completionTokens: 200 } } },
      models: { chat: { deployments: [{ provider: 'mock', model: 'runaway', price }] } },
    });
    const body = { model: 'chat', messages, stream: true };
    const max = (await quote(gw.url, body)).estimated_max_cost.micros;
    const limitMicros = max + 20; // room for ~5 more output tokens, not for an extension of 256
    await gw.gateway.costs.repository.upsert({
      id: 'tight',
      scope: { kind: 'global' },
      window: 'daily',
      limitMicros,
    });
    const res = await post(gw.url, '/v1/chat/completions', body, {
      'x-request-id': 'runaway',
      'x-mock-ignore-output-limit': '1',
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    const events = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice(6));
    assert.notEqual(events.at(-1), '[DONE]', 'a cut stream never ends with [DONE]');
    const last = JSON.parse(events.at(-1)!) as { error: { code: string; type: string } };
    assert.equal(last.error.code, 'budget_exceeded');
    assert.equal(last.error.type, 'insufficient_quota');
    const streamed = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { choices: { delta: { content?: string } }[] })
      .map((c) => c.choices[0]?.delta.content ?? '')
      .join('');
    await gw.close();

    const row = rows().find((r) => r.request_id === 'runaway')!;
    assert.equal(row.outcome, 'truncated');
    assert.equal(row.error_code, 'budget_exceeded');
    assert.equal(row.estimated, 1, 'no usage chunk arrived: counted locally');
    const { countText, WorkBudget } = await import('../../src/tokens/tokens.js');
    const exact = countText(streamed, { budget: new WorkBudget(60_000) }).tokens;
    assert.equal(row.output_tokens, exact, 'priced for exactly what reached the client');
    assert.ok(row.output_tokens >= 16 && row.output_tokens <= 21, `streamed ${row.output_tokens} tokens`);
    assert.equal(row.cost_micros, Math.ceil(row.input_tokens * 1 + row.output_tokens * 4));
    assert.ok(row.cost_micros <= limitMicros);
  });

  void it('downgrade: a full downgrade budget routes calls to the cheaper alias; hard refuses naming the budget', async () => {
    const { gw, rows } = await start({
      providers: { mock: { type: 'mock' } },
      models: {
        'gpt-4o': { deployments: [{ provider: 'mock', model: 'gpt-4o' }] },
        'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
      },
      budgets: {
        limits: [
          {
            id: 'search-daily',
            feature: 'search',
            window: 'daily',
            limitUsd: '0.002',
            action: 'downgrade',
            downgradeTo: 'gpt-4o-mini',
          },
        ],
      },
    });
    const body = { model: 'gpt-4o', messages, max_tokens: 300 }; // gpt-4o: ≤ $0.0031 > $0.002; mini: ≤ $0.0002
    const downgraded = await post(gw.url, '/v1/chat/completions', body, {
      'x-tollgate-feature': 'search',
      'x-request-id': 'dg',
    });
    assert.equal(downgraded.status, 200);
    assert.equal(downgraded.headers.get('x-tollgate-downgraded-from'), 'gpt-4o');
    const quoted = await quote(gw.url, body);
    assert.equal(quoted.decision, 'admit', 'without the feature, no budget applies');
    const other = await post(gw.url, '/v1/chat/completions', body, { 'x-request-id': 'other' });
    assert.equal(other.status, 200);
    assert.equal(other.headers.get('x-tollgate-downgraded-from'), null);
    await gw.close();
    const row = rows().find((r) => r.request_id === 'dg')!;
    assert.equal(row.alias, 'gpt-4o-mini');
    assert.deepEqual(JSON.parse(row.tags ?? '[]'), ['downgraded-from:gpt-4o']);
  });

  void it('quote: tokens, the most a call can cost, the budgets that apply and the decision; it spends nothing', async () => {
    const { gw } = await start({
      providers: { mock: { type: 'mock' } },
      models: { 'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] } },
      budgets: { limits: [{ id: 'tiny', window: 'total', limitUsd: '0.0001' }] },
    });
    try {
      const small = await quote(gw.url, { model: 'gpt-4o-mini', messages, max_tokens: 10 });
      assert.equal(small.decision, 'admit');
      const prompt = encodeChat(messages).length; // the reference encoder
      assert.deepEqual(small.tokens, { prompt, prompt_exact: true, prompt_max: prompt, output_max: 10 });
      // gpt-4o-mini: 0.15 µ$ per input token, 0.60 per output token; rounded up once
      const micros = Math.ceil((prompt * 150_000 + 10 * 600_000) / 1_000_000);
      assert.deepEqual(small.estimated_max_cost, { micros, usd: `$0.${String(micros).padStart(6, '0')}` });
      const big = await quote(gw.url, { model: 'gpt-4o-mini', messages });
      assert.equal(big.decision, 'deny');
      assert.match((big.reasons as string[])[0]!, /budget "tiny" would be exceeded/);
      assert.deepEqual(
        (big.budgets as { id: string; spent_micros: number; reserved_micros: number; would_exceed: boolean }[]).map(
          (b) => [b.id, b.spent_micros, b.reserved_micros, b.would_exceed],
        ),
        [['tiny', 0, 0, true]],
      );
      assert.deepEqual(big.limits, { context_window: 128_000, max_output_tokens: 16_384, rate_limits: null });
      const unknown = await post(gw.url, '/v1/tollgate/quote', { model: 'nope', messages });
      assert.equal(unknown.status, 404);
    } finally {
      await gw.close();
    }
  });
});
