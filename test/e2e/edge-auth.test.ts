import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GatewayError } from '../../src/core/errors.js';
import type { CallSummary } from '../../src/observability/call-summary.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseResponses, rawConnect, receivedUntil, requestHead } from '../helpers/raw-http.js';

/**
 * The key is checked on the request head (issue 7, item 3): a /v1 request without a valid key is
 * answered before a byte of its body is sent, in the route's dialect; the library path
 * (`authenticate: true`) still authenticates inside the pipeline.
 */

describe('authentication on the request head', () => {
  let gw: TestGateway;
  let key: string;
  const summaries: CallSummary[] = [];

  before(async () => {
    gw = await startTestGateway(
      {
        auth: { mode: 'keys' },
        providers: { mock: { type: 'mock' } },
        models: { m: { deployments: [{ provider: 'mock', model: 'mock-1' }] } },
      },
      { observers: [(summary) => summaries.push(summary)] },
    );
    await gw.gateway.tenancy.store.createTenant({ id: 'acme' });
    key = (await gw.gateway.tenancy.store.createKey({ tenant: 'acme' })).secret;
  });
  after(() => gw.close());

  /** Sends only a head announcing a 1 MiB body, and waits for an answer. */
  async function headOnly(path: string, headers: Record<string, string>) {
    const conn = await rawConnect(gw.url);
    conn.write(
      requestHead('POST', path, { 'content-type': 'application/json', 'content-length': 1 << 20, ...headers }),
    );
    const raw = await Promise.race([
      receivedUntil(conn, (r) => parseResponses(r).length > 0),
      new Promise<string>((resolve) => setTimeout(() => resolve('(no answer in 5 s)'), 5_000)),
    ]);
    conn.socket.destroy();
    return { raw, response: parseResponses(raw)[0] };
  }

  for (const path of ['/v1/chat/completions', '/v1/embeddings', '/v1/tollgate/quote']) {
    it(`POST ${path} without a key: 401 in OpenAI's shape before any body byte`, async () => {
      const { raw, response } = await headOnly(path, {});
      assert.equal(response?.status, 401, raw.slice(0, 200));
      assert.equal(response.headers.connection, 'close');
      const body = JSON.parse(response.body) as { error: { type: string; code: string } };
      assert.deepEqual([body.error.type, body.error.code], ['authentication_error', 'invalid_api_key']);
    });
  }

  it("POST /v1/messages with a wrong key: 401 in Anthropic's shape before any body byte", async () => {
    const { raw, response } = await headOnly('/v1/messages', { 'x-api-key': 'tg-wrong' });
    assert.equal(response?.status, 401, raw.slice(0, 200));
    const body = JSON.parse(response.body) as { type: string; error: { type: string } };
    assert.deepEqual([body.type, body.error.type], ['error', 'authentication_error']);
  });

  it('a valid key passes; the call is attributed to its tenant and recorded once', async () => {
    summaries.length = 0;
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 200);
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]!.tenant, 'acme');
  });

  it('the library path (gateway.chat with authenticate: true) still authenticates in the pipeline', async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
    const reply = await gw.gateway.chat(body, { authenticate: true, headers: { authorization: `Bearer ${key}` } });
    assert.equal(reply.object, 'chat.completion');
    summaries.length = 0;
    await assert.rejects(
      gw.gateway.chat(body, { authenticate: true, headers: { authorization: 'Bearer tg-wrong' } }),
      (err: unknown) => err instanceof GatewayError && err.status === 401,
    );
    assert.equal(summaries.length, 1, 'a refusal inside the pipeline is recorded');
    assert.equal(summaries[0]!.status, 401);
  });
});
