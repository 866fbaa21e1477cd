import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import OpenAI from 'openai';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies read back in assertions */
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const ADMIN = 'admin-test-key-7f3e';

/** An OpenAI-wire upstream that records what the gateway sent it. */
async function capturingUpstream(): Promise<{
  url: string;
  seen: { body: any; headers: IncomingHttpHeaders }[];
  server: Server;
}> {
  const seen: { body: any; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw);
      seen.push({ body, headers: req.headers });
      const usage = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
      const base = { id: 'chatcmpl-1', created: 1, model: body.model };
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
        chunk({
          ...base,
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: null }],
        });
        chunk({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
        chunk({ ...base, object: 'chat.completion.chunk', choices: [], usage });
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
          usage,
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen, server };
}

const messages = [{ role: 'user' as const, content: 'hello' }];

describe('tenancy end to end: virtual keys, the admin API, attribution and usage', () => {
  let upstream: Awaited<ReturnType<typeof capturingUpstream>>;
  let gw: TestGateway;
  const admin = async (method: string, path: string, body?: unknown, key = ADMIN) => {
    const res = await fetch(`${gw.url}/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const client = (apiKey: string) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0 });
  let acmeKey: string;
  let acmeKeyId: string;
  let globexKey: string;

  before(async () => {
    upstream = await capturingUpstream();
    gw = await startTestGateway({
      auth: { mode: 'keys' },
      admin: { apiKey: ADMIN },
      ledger: { flushIntervalMs: 20 },
      providers: { up: { type: 'openai', baseUrl: upstream.url, apiKey: 'sk-upstream', forwardHeaders: ['x-*'] } },
      models: {
        'gpt-4o-mini': { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] },
        'gpt-4o': { deployments: [{ provider: 'up', model: 'gpt-4o' }] },
      },
    });
    assert.equal((await admin('POST', '/tenants', { id: 'acme', name: 'Acme' })).status, 201);
    assert.equal((await admin('POST', '/tenants', { id: 'globex' })).status, 201);
    const acme = await admin('POST', '/keys', { tenant: 'acme', name: 'backend', models: ['gpt-4o-mini'] });
    assert.equal(acme.status, 201);
    acmeKey = acme.body.key;
    acmeKeyId = acme.body.id;
    globexKey = (await admin('POST', '/keys', { tenant: 'globex' })).body.key;
  });

  after(async () => {
    await gw.close();
    await new Promise((resolve) => upstream.server.close(resolve));
  });

  it('the official openai SDK with a virtual key gets 200; the key and Tollgate fields never reach the upstream', async () => {
    const reply = await client(acmeKey).chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      metadata: { feature: 'search', tags: 'beta', order: '42' },
      safety_identifier: 'user-123',
    });
    assert.equal(reply.choices[0]?.message.content, 'hi');
    const sent = upstream.seen.at(-1)!;
    assert.deepEqual(sent.body.metadata, { order: '42' });
    assert.equal(sent.headers.authorization, 'Bearer sk-upstream');
    assert.ok(!JSON.stringify(sent).includes(acmeKey), 'the virtual key went upstream');
  });

  it('no key or a bad key → AuthenticationError (401 invalid_api_key)', async () => {
    // No key at all: the SDK insists on one, so the header is removed instead.
    const keyless = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'unused',
      maxRetries: 0,
      defaultHeaders: { authorization: null },
    });
    const clients = [keyless, ...['tg-0000000000000000000000000000000000000000000', 'sk-whatever'].map(client)];
    for (const sdk of clients) {
      await assert.rejects(sdk.chat.completions.create({ model: 'gpt-4o-mini', messages }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
        assert.equal(err.status, 401);
        assert.equal(err.code, 'invalid_api_key');
        if (sdk === keyless) assert.match(err.message, /didn't provide an API key/);
        return true;
      });
    }
  });

  it('a model the key may not use → PermissionDeniedError naming it; /v1/models shows only its aliases', async () => {
    await assert.rejects(client(acmeKey).chat.completions.create({ model: 'gpt-4o', messages }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.PermissionDeniedError, String(err));
      assert.match(err.message, /gpt-4o/);
      return true;
    });
    const models = await client(acmeKey).models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ['gpt-4o-mini'],
    );
    assert.equal((await client(globexKey).models.list()).data.length, 2);
  });

  it('x-api-key works as well as Authorization (Anthropic-style clients), streams included', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': globexKey, 'x-tollgate-feature': 'summaries' },
      body: JSON.stringify({ model: 'gpt-4o', messages, stream: true }),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /data: \[DONE\]/);
  });

  it('the quote route authenticates like any /v1 call', async () => {
    const quote = (headers: Record<string, string>) =>
      fetch(`${gw.url}/v1/tollgate/quote`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages }),
      });
    assert.equal((await quote({})).status, 401);
    assert.equal((await quote({ authorization: `Bearer ${acmeKey}` })).status, 200);
  });

  it('a budget given when the key is created is enforced at once on this replica', async () => {
    const created = await admin('POST', '/keys', { tenant: 'globex', name: 'broke', budget: '0/day' });
    assert.equal(created.status, 201);
    await assert.rejects(
      client(created.body.key).chat.completions.create({ model: 'gpt-4o', messages }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError && err.status === 429, String(err));
        assert.match(err.message, new RegExp(`key:${created.body.id}:daily`));
        return true;
      },
    );
  });

  it('a tenant key on /admin gets 403; no key 401; the admin key 200', async () => {
    assert.equal((await admin('GET', '/keys', undefined, acmeKey)).status, 403);
    assert.equal((await admin('GET', '/usage', undefined, acmeKey)).status, 403);
    assert.equal((await fetch(`${gw.url}/admin/v1/keys`)).status, 401);
    assert.equal((await admin('GET', '/keys', undefined, `${ADMIN}-nope`)).status, 401);
    const list = await admin('GET', '/keys');
    assert.equal(list.status, 200);
    assert.ok(
      list.body.data.every((k: object) => !('hash' in k) && !('key' in k)),
      'no hash and no secret in lists',
    );
  });

  it('admin API: rotate with grace, revoke (refused at once on this replica), expire; bad input 400, unknown 404, duplicate 409', async () => {
    const created = await admin('POST', '/keys', { tenant: 'acme', name: 'rotating', budget: '5/day' });
    assert.equal(created.status, 201);
    assert.deepEqual(
      created.body.budgets.map((b: { id: string }) => b.id),
      [`key:${created.body.id}:daily`],
    );
    const rotated = await admin('POST', `/keys/${created.body.id}/rotate`, { grace_seconds: 600 });
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.id, created.body.id);
    assert.equal(rotated.body.previous_prefix, created.body.prefix);
    for (const key of [created.body.key, rotated.body.key])
      assert.ok((await client(key).chat.completions.create({ model: 'gpt-4o-mini', messages })).id);
    const revoked = await admin('POST', `/keys/${created.body.id}/revoke`, { reason: 'test' });
    assert.equal(revoked.body.status, 'revoked');
    await assert.rejects(
      client(rotated.body.key).chat.completions.create({ model: 'gpt-4o-mini', messages }),
      OpenAI.AuthenticationError,
    );
    const expiring = await admin('POST', '/keys', { tenant: 'globex' });
    assert.equal((await admin('POST', `/keys/${expiring.body.id}/expire`, {})).body.status, 'expired');
    await assert.rejects(
      client(expiring.body.key).chat.completions.create({ model: 'gpt-4o', messages }),
      OpenAI.AuthenticationError,
    );
    assert.equal((await admin('POST', '/keys', { tenant: 'acme', models: ['nope'] })).status, 400);
    assert.equal((await admin('POST', '/keys', { tenant: 'acme', budget: 'lots' })).status, 400);
    assert.equal((await admin('POST', '/keys', { tenant: 'nobody' })).status, 404);
    assert.equal((await admin('POST', '/keys/key_nope/revoke', {})).status, 404);
    assert.equal((await admin('POST', '/tenants', { id: 'acme' })).status, 409);
    assert.equal((await admin('GET', '/tenants/acme')).body.name, 'Acme');
  });

  describe('usage', () => {
    const usage = async (key: string, query = '', accept?: string) => {
      const res = await fetch(`${gw.url}/v1/tollgate/usage${query}`, {
        headers: { authorization: `Bearer ${key}`, ...(accept ? { accept } : {}) },
      });
      return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
    };

    before(async () => {
      // Wait for the ledger: every call so far is written (flush interval 20 ms).
      const count = async () =>
        Number(
          (await sql<{ n: number }>`select count(*) as n from requests`.execute(gw.gateway.database.db)).rows[0]?.n,
        );
      const calls = upstream.seen.length;
      for (let i = 0; i < 5; i++) {
        await client(acmeKey).chat.completions.create({ model: 'gpt-4o-mini', messages, user: `u${i}` });
        await client(globexKey).chat.completions.create({ model: 'gpt-4o', messages });
      }
      const expected = calls + 10;
      for (let start = Date.now(); (await count()) < expected && Date.now() - start < 5_000;)
        await new Promise((r) => setTimeout(r, 20));
    });

    it("tenant A's key reads A's usage only; asking for B's is 403", async () => {
      const own = await usage(acmeKey, '?group_by=tenant,key,feature');
      assert.equal(own.status, 200);
      const report = JSON.parse(own.text);
      assert.equal(report.tenant, 'acme');
      assert.deepEqual([...new Set(report.data.map((r: { tenant: string }) => r.tenant))], ['acme']);
      assert.ok(!own.text.includes('globex'));
      assert.equal((await usage(acmeKey, '?tenant=globex')).status, 403);
      const theirs = JSON.parse((await usage(globexKey, '?group_by=tenant')).text);
      assert.deepEqual(
        theirs.data.map((r: { tenant: string }) => r.tenant),
        ['globex'],
      );
      assert.equal((await usage('tg-0000000000000000000000000000000000000000000')).status, 401);
    });

    it('the report totals equal a direct SQL sum over the ledger, in JSON and CSV, for a tenant and for all', async () => {
      const to = Date.now() + 1;
      const from = to - 3_600_000;
      const range = `from=${from}&to=${to}`;
      const truth = async (tenant?: string) => {
        const filter = tenant ? sql` and tenant = ${tenant}` : sql``;
        const { rows } = await sql<{ requests: number; input: number; output: number; cost: number }>`
          select count(*) as requests, sum(input_tokens) as input, sum(output_tokens) as output,
                 sum(cost_micros) as cost
          from requests where created_at >= ${from} and created_at < ${to}${filter}`.execute(gw.gateway.database.db);
        const r = rows[0]!;
        return { requests: Number(r.requests), input: Number(r.input), output: Number(r.output), cost: Number(r.cost) };
      };
      const totals = (json: any) => ({
        requests: json.totals.requests,
        input: json.totals.input_tokens,
        output: json.totals.output_tokens,
        cost: json.totals.cost_micros,
      });
      const csvTotals = (csv: string) => {
        const [header, ...lines] = csv.trimEnd().split('\r\n');
        const col = (name: string) => header!.split(',').indexOf(name);
        const sum = (name: string) => lines.reduce((s, l) => s + Number(l.split(',')[col(name)]), 0);
        return {
          requests: sum('requests'),
          input: sum('input_tokens'),
          output: sum('output_tokens'),
          cost: sum('cost_micros'),
        };
      };

      const acmeJson = JSON.parse((await usage(acmeKey, `?${range}&group_by=model,feature,user&interval=day`)).text);
      assert.deepEqual(totals(acmeJson), await truth('acme'));
      assert.ok(acmeJson.totals.requests >= 6);
      assert.ok(acmeJson.totals.cost_micros > 0, 'calls are priced (the cost engineer fills cost_micros)');
      const acmeCsv = await usage(acmeKey, `?${range}&group_by=model,user`, 'text/csv');
      assert.match(acmeCsv.type, /^text\/csv/);
      assert.deepEqual(csvTotals(acmeCsv.text), await truth('acme'));

      const all = await admin('GET', `/usage?${range}&group_by=tenant,feature,model,key&interval=day`);
      assert.deepEqual(totals(all.body), await truth());
      const allCsv = await fetch(`${gw.url}/admin/v1/usage?${range}&group_by=tenant,key&format=csv`, {
        headers: { authorization: `Bearer ${ADMIN}` },
      });
      assert.deepEqual(csvTotals(await allCsv.text()), await truth());
    });

    it('attribution lands in the ledger: tenant and key from the key, feature, user and tags from the request', async () => {
      const rows = await gw.gateway.database.db
        .selectFrom('requests')
        .select(['tenant', 'keyId', 'feature', 'endUser', 'tags', 'status'])
        .where('feature', '=', 'search')
        .execute();
      assert.deepEqual(rows[0], {
        tenant: 'acme',
        keyId: acmeKeyId,
        feature: 'search',
        endUser: 'user-123',
        tags: '["beta"]',
        status: 200,
      });
      const streamed = await gw.gateway.database.db
        .selectFrom('requests')
        .select(['tenant', 'feature'])
        .where('feature', '=', 'summaries')
        .executeTakeFirst();
      assert.deepEqual(streamed, { tenant: 'globex', feature: 'summaries' });
    });
  });
});

describe('tenancy: the admin API without an admin key', () => {
  it('answers 404 saying how to enable it', async () => {
    const gw = await startTestGateway({
      providers: { m: { type: 'mock' } },
      models: { m: { deployments: [{ provider: 'm', model: 'm' }] } },
    });
    try {
      const res = await fetch(`${gw.url}/admin/v1/keys`, { headers: { authorization: 'Bearer anything' } });
      assert.equal(res.status, 404);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /admin\.apiKey/);
    } finally {
      await gw.close();
    }
  });
});
