import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseResponses, rawConnect, receivedUntil, requestHead, type ParsedResponse } from '../helpers/raw-http.js';

/**
 * Every answer the edge gives is in OpenAI's error JSON (issue 7, item 10), including the ones
 * Node's HTTP parser and fastify's router give before any route runs.
 */

const ADMIN = 'admin-secret-for-edge-errors-0123456789';

/** Sends `raw` on a fresh connection and returns the first response. */
async function exchange(url: string, raw: string): Promise<ParsedResponse> {
  const conn = await rawConnect(url);
  conn.write(raw);
  const received = await receivedUntil(conn, (r) => parseResponses(r).some((p) => p.status >= 200));
  conn.socket.destroy();
  const response = parseResponses(received).find((p) => p.status >= 200);
  assert.ok(response, `no response to ${JSON.stringify(raw.slice(0, 60))}: ${JSON.stringify(received.slice(0, 200))}`);
  return response;
}

/** Asserts OpenAI's error shape, exactly its four keys, and returns the code. */
function openAiErrorCode(response: ParsedResponse): string {
  assert.match(response.headers['content-type'] ?? '', /^application\/json/);
  const body = JSON.parse(response.body) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof body.error.message, 'string');
  return body.error.code as string;
}

describe('framing and method errors answered in OpenAI error JSON', () => {
  let gw: TestGateway;
  let key: string;

  before(async () => {
    gw = await startTestGateway({
      auth: { mode: 'keys' },
      admin: { apiKey: ADMIN },
      providers: { mock: { type: 'mock' } },
      models: { m: { deployments: [{ provider: 'mock', model: 'mock-1' }] } },
    });
    await gw.gateway.tenancy.store.createTenant({ id: 'acme' });
    key = (await gw.gateway.tenancy.store.createKey({ tenant: 'acme' })).secret;
  });
  after(() => gw.close());

  const cases: [string, () => string, number, string][] = [
    ['an unknown HTTP method', () => 'FROB /v1/models HTTP/1.1\r\nhost: x\r\n\r\n', 405, 'method_not_allowed'],
    [
      'headers too large (431)',
      () => requestHead('GET', '/v1/models', { 'x-padding': 'p'.repeat(20_000) }),
      431,
      'headers_too_large',
    ],
    [
      'an Expect header other than 100-continue (417)',
      () => requestHead('POST', '/v1/chat/completions', { expect: 'teapot', 'content-length': 2 }) + '{}',
      417,
      'expectation_failed',
    ],
    ['a malformed request line', () => 'GET /v1/models HTTP/9.x\r\n\r\n', 400, 'invalid_request'],
    [
      'a URL with broken percent-encoding',
      () => requestHead('GET', '/v1/models/%E0%A4%A', { authorization: `Bearer ${key}` }),
      400,
      'invalid_request',
    ],
    [
      'a body that is not JSON (415)',
      () =>
        requestHead('POST', '/v1/chat/completions', {
          authorization: `Bearer ${key}`,
          'content-type': 'application/xml',
          'content-length': 2,
        }) + 'hi',
      415,
      'unsupported_media_type',
    ],
    ['an unknown route', () => requestHead('GET', '/v2/nothing', {}), 404, 'not_found'],
  ];

  for (const [what, raw, status, code] of cases) {
    it(`${what} → ${status} ${code}`, async () => {
      const response = await exchange(gw.url, raw());
      assert.equal(response.status, status, response.body);
      assert.equal(openAiErrorCode(response), code);
    });
  }
});

describe('/health without the admin key is terse', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway({
      admin: { apiKey: ADMIN },
      providers: { mock: { type: 'mock' } },
      models: { secret_alias: { deployments: [{ provider: 'mock', id: 'hidden-deployment', model: 'upstream-x' }] } },
    });
  });
  after(() => gw.close());

  it('GET /health without a key: status and check names only, no aliases, deployments or breakers', async () => {
    const res = await fetch(`${gw.url}/health`);
    const text = await res.text();
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(text), { status: 'ok', checks: { storage: 'ok' } });
    for (const secret of ['secret_alias', 'hidden-deployment', 'upstream-x', 'breaker'])
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  });

  it('GET /health with the admin key: the detailed view; a wrong key is refused', async () => {
    const res = await fetch(`${gw.url}/health`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const body = (await res.json()) as { models: { alias: string; deployments: { id: string }[] }[] };
    assert.equal(res.status, 200);
    assert.deepEqual(
      body.models.map((m) => [m.alias, m.deployments.map((d) => d.id)]),
      [['secret_alias', ['hidden-deployment']]],
    );
    const wrong = await fetch(`${gw.url}/health`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
  });

  it('/health/live and /health/ready stay public and terse', async () => {
    assert.deepEqual(await (await fetch(`${gw.url}/health/live`)).json(), { status: 'ok' });
    assert.deepEqual(await (await fetch(`${gw.url}/health/ready`)).json(), { status: 'ok', checks: { storage: 'ok' } });
  });
});
