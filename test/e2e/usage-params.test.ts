import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Issue 7, item 10: every query parameter of the usage routes (tenant and admin) and the admin
// list routes, fed prototype keys, huge numbers, NaN and repeated params: 400 naming the param,
// never a 500.

const ADMIN = 'admin-usage-params-key';
const DIMENSIONS = 'tenant, feature, model, key, user, provider, upstream_model';

interface Answer {
  status: number;
  body: { error?: { type: string; code: string | null; param: string | null; message: string } } & Record<
    string,
    unknown
  >;
}

void describe('usage and admin list query parameters (issue 7, item 10)', () => {
  let gw: TestGateway;
  let tenantKey: string;
  const get = async (path: string, authorization: string): Promise<Answer> => {
    const res = await fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${authorization}` } });
    const text = await res.text();
    return { status: res.status, body: JSON.parse(text) as Answer['body'] };
  };
  const routes = (): [string, string][] => [
    ['/v1/tollgate/usage', tenantKey],
    ['/admin/v1/usage', ADMIN],
  ];

  before(async () => {
    gw = await startTestGateway({
      admin: { apiKey: ADMIN },
      providers: { mock: { type: 'mock' } },
      models: { 'gpt-4o-mini': { deployments: [{ provider: 'mock', model: 'gpt-4o-mini' }] } },
    });
    const post = (path: string, body: unknown) =>
      fetch(`${gw.url}/admin/v1${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await post('/tenants', { id: 'acme' })).status, 201);
    tenantKey = ((await (await post('/keys', { tenant: 'acme' })).json()) as { key: string }).key;
  });
  after(() => gw.close());

  /** 400 invalid_request naming `param`, with a message matching `message`, no internal detail. */
  function assertRefused(answer: Answer, param: string, message: RegExp, what: string): void {
    assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error?.type, 'invalid_request_error', what);
    assert.equal(answer.body.error?.param, param, what);
    assert.match(answer.body.error?.message ?? '', message, what);
    assert.doesNotMatch(answer.body.error?.message ?? '', /internal|TypeError|RangeError|Invalid time value/i, what);
  }

  void it('group_by with prototype keys: 400 naming group_by and the dimensions allowed', async () => {
    for (const [route, key] of routes())
      for (const value of ['__proto__', 'constructor', 'toString', 'constructor,toString', 'tenant,hasOwnProperty']) {
        const answer = await get(`${route}?group_by=${value}`, key);
        assertRefused(answer, 'group_by', new RegExp(`use any of ${DIMENSIONS}`), `${route} group_by=${value}`);
      }
  });

  void it('from / to past the last time a Date holds: 400 naming the param and the range; the limit itself is fine', async () => {
    for (const [route, key] of routes()) {
      for (const param of ['to', 'from'])
        for (const value of ['99999999999999999999', '8640000000000001']) {
          const answer = await get(`${route}?${param}=${value}`, key);
          assertRefused(answer, param, /epoch ms must be from 0 to 8640000000000000/, `${route} ${param}=${value}`);
        }
      const edge = await get(`${route}?to=8640000000000000`, key);
      assert.equal(edge.status, 200, JSON.stringify(edge.body));
      assert.equal(edge.body.to, '+275760-09-13T00:00:00.000Z');
    }
  });

  void it('NaN, Infinity and out-of-range numbers in from, to, limit, and prototype keys in interval / format: 400', async () => {
    const cases: [string, string, RegExp][] = [
      ['from=NaN', 'from', /ISO date/],
      ['to=NaN', 'to', /ISO date/],
      ['to=Infinity', 'to', /ISO date/],
      ['limit=NaN', 'limit', /integer 1–100000/],
      ['limit=Infinity', 'limit', /integer 1–100000/],
      ['limit=1e400', 'limit', /integer 1–100000/],
      ['limit=99999999999999999999', 'limit', /integer 1–100000/],
      ['limit=0', 'limit', /integer 1–100000/],
      ['interval=__proto__', 'interval', /one of hour, day, month/],
      ['interval=constructor', 'interval', /one of hour, day, month/],
      ['format=__proto__', 'format', /one of json, csv/],
      ['format=toString', 'format', /one of json, csv/],
    ];
    for (const [route, key] of routes())
      for (const [query, param, message] of cases)
        assertRefused(await get(`${route}?${query}`, key), param, message, `${route} ${query}`);
  });

  void it('a parameter given twice: 400 naming it, for every parameter of both usage routes', async () => {
    const values: Record<string, [string, string]> = {
      group_by: ['tenant', 'model'],
      from: ['2026-01-01', '2026-01-02'],
      to: ['2026-03-01', '2026-03-02'],
      interval: ['day', 'hour'],
      limit: ['5', '6'],
      key: ['key_a', 'key_b'],
      tenant: ['acme', 'acme'],
      format: ['json', 'csv'],
    };
    for (const [route, key] of routes())
      for (const [param, [a, b]] of Object.entries(values)) {
        const answer = await get(`${route}?${param}=${a}&${param}=${b}`, key);
        assertRefused(answer, param, /is given more than once/, `${route} ${param} twice`);
      }
  });

  void it('prototype keys as filter values are plain strings: an empty report, or 403 for another tenant', async () => {
    for (const [route, key] of routes()) {
      const answer = await get(`${route}?key=__proto__&group_by=model`, key);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body.data, []);
    }
    const admin = await get('/admin/v1/usage?tenant=constructor', ADMIN);
    assert.equal(admin.status, 200);
    assert.equal(admin.body.tenant, 'constructor');
    assert.equal((await get('/v1/tollgate/usage?tenant=__proto__', tenantKey)).status, 403);
  });

  void it('admin list routes: repeated tenant / include_inactive and a bad flag are 400; prototype keys are plain strings', async () => {
    assertRefused(
      await get('/admin/v1/keys?tenant=acme&tenant=other', ADMIN),
      'tenant',
      /is given more than once/,
      'keys tenant twice',
    );
    assertRefused(
      await get('/admin/v1/keys?include_inactive=1&include_inactive=0', ADMIN),
      'include_inactive',
      /is given more than once/,
      'keys include_inactive twice',
    );
    assertRefused(
      await get('/admin/v1/keys?include_inactive=__proto__', ADMIN),
      'include_inactive',
      /must be true, false, 1 or 0/,
      'keys include_inactive=__proto__',
    );
    const none = await get('/admin/v1/keys?tenant=__proto__', ADMIN);
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.data, []);
    const acme = await get('/admin/v1/keys?tenant=acme&include_inactive=true', ADMIN);
    assert.equal((acme.body.data as unknown[]).length, 1);
    const tenants = await get('/admin/v1/tenants?__proto__=1&constructor=2', ADMIN);
    assert.equal(tenants.status, 200);
    assert.deepEqual(
      (tenants.body.data as { id: string }[]).map((t) => t.id),
      ['acme'],
    );
  });

  void it('a key expiring past the last time a Date holds is refused before it is created', async () => {
    const res = await fetch(`${gw.url}/admin/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'acme', expires_at: 9_000_000_000_000_000 }),
    });
    const answer = { status: res.status, body: (await res.json()) as Answer['body'] };
    assertRefused(answer, 'expires_at', /8640000000000000/, 'expires_at 9e15');
    const keys = await get('/admin/v1/keys?tenant=acme&include_inactive=1', ADMIN);
    assert.equal((keys.body.data as unknown[]).length, 1, 'no key was created');
  });
});
