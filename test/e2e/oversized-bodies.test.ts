import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { parseResponses, rawConnect, receivedUntil, requestHead } from '../helpers/raw-http.js';

/**
 * Oversized bodies (issue 7, item 6): the 413 must reach a client that is still uploading —
 * not a reset (EPIPE) that the SDKs report as a connection error and upload again — and a client
 * that asks `Expect: 100-continue` must get its refusal before it sends the body.
 */

const THIRTY_MB = 30 * 1024 * 1024;
const messagesOf = (bytes: number) => [{ role: 'user' as const, content: 'x'.repeat(bytes) }];

describe('oversized bodies get their 413, not a reset', () => {
  let gw: TestGateway;
  let key: string;
  let requests = 0;

  before(async () => {
    gw = await startTestGateway({
      auth: { mode: 'keys' },
      providers: { mock: { type: 'mock' } },
      models: { m: { deployments: [{ provider: 'mock', model: 'mock-1' }] } },
    });
    await gw.gateway.tenancy.store.createTenant({ id: 'acme' });
    key = (await gw.gateway.tenancy.store.createKey({ tenant: 'acme' })).secret;
    gw.server.app.server.on('request', () => requests++);
  });
  after(() => gw.close());

  it('a 30 MB upload through the official openai SDK (default retries) raises a 413 APIError 10 of 10, one upload each', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key }); // maxRetries: the default (2)
    const messages = messagesOf(THIRTY_MB);
    requests = 0;
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      try {
        await client.chat.completions.create({ model: 'm', messages });
        outcomes.push('ok');
      } catch (err) {
        outcomes.push(err instanceof OpenAI.APIError ? `${err.constructor.name} ${err.status}` : String(err));
      }
    }
    console.log(`openai SDK, 30 MB: ${JSON.stringify(outcomes.slice(0, 2))}…; uploads seen by the server: ${requests}`);
    assert.deepEqual(outcomes, Array(10).fill('APIError 413'));
    assert.equal(requests, 10, 'exactly one upload per call: the SDK did not upload again');
  });

  it("the same with Node's fetch: 10 of 10 get the 413 in OpenAI's error JSON", async () => {
    const body = JSON.stringify({ model: 'm', messages: messagesOf(THIRTY_MB) });
    requests = 0;
    const outcomes: (number | string)[] = [];
    for (let i = 0; i < 10; i++) {
      try {
        const res = await fetch(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body,
        });
        const json = (await res.json()) as { error: { code: string } };
        outcomes.push(res.status === 413 && json.error.code === 'payload_too_large' ? 413 : `${res.status}`);
      } catch (err) {
        outcomes.push(`${String(err)} ${String((err as { cause?: unknown }).cause)}`);
      }
    }
    assert.deepEqual(outcomes, Array(10).fill(413));
    assert.equal(requests, 10);
  });

  it('Expect: 100-continue with an oversized Content-Length gets the 413 before any body is sent', async () => {
    const conn = await rawConnect(gw.url);
    conn.write(
      requestHead('POST', '/v1/chat/completions', {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-length': THIRTY_MB,
        expect: '100-continue',
      }),
    );
    const raw = await receivedUntil(conn, (r) => parseResponses(r).length > 0);
    conn.socket.destroy();
    const responses = parseResponses(raw);
    assert.deepEqual(
      responses.map((r) => r.status),
      [413],
      `no 100 Continue, only the refusal: ${raw.slice(0, 120)}`,
    );
    assert.equal((JSON.parse(responses[0]!.body) as { error: { code: string } }).error.code, 'payload_too_large');
  });

  it('Expect: 100-continue without a valid key gets the 401 before any body is sent', async () => {
    const conn = await rawConnect(gw.url);
    conn.write(
      requestHead('POST', '/v1/chat/completions', {
        authorization: 'Bearer tg-not-a-real-key',
        'content-type': 'application/json',
        'content-length': 1000,
        expect: '100-continue',
      }),
    );
    const raw = await receivedUntil(conn, (r) => parseResponses(r).length > 0);
    conn.socket.destroy();
    assert.deepEqual(
      parseResponses(raw).map((r) => r.status),
      [401],
    );
  });

  it('Expect: 100-continue with a valid key and a fitting body gets 100 Continue, then the answer', async () => {
    const body = JSON.stringify({ model: 'm', messages: messagesOf(10) });
    const conn = await rawConnect(gw.url);
    conn.write(
      requestHead('POST', '/v1/chat/completions', {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        expect: '100-continue',
      }),
    );
    await receivedUntil(conn, (r) => r.includes('\r\n\r\n'));
    assert.match(conn.received(), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    conn.write(body);
    const raw = await receivedUntil(conn, (r) => parseResponses(r).length > 1);
    conn.socket.destroy();
    assert.deepEqual(
      parseResponses(raw).map((r) => r.status),
      [100, 200],
    );
  });
});
