import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import pino from 'pino';
import { request } from 'undici';
import { ACCESS_LOG_FIELDS } from '../../src/observability/access-log.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Issue 7 item 8: provider secrets must not reach tenants or the logs. The upstream here is an
 * OpenAI-compatible server that does not mask keys: its errors quote the whole credential it was
 * sent. The status it answers is chosen per request by the `x-test-status` header.
 */

const OPENAI_SHAPED = 'sk-proj-Qm9vZ2xlIGlzIG5vdCBhIGtleSBidXQgaXQgbG9va3MgbGlrZSBvbmUxMjM0NTY3ODkw';
const UNSHAPED = 'vllm-local-token-7f3e9a2c41'; // no recognisable shape: only config knows it is a secret

function quotingUpstream(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    const status = Number(req.headers['x-test-status'] ?? 500);
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const message =
      status === 401
        ? `Incorrect API key provided: ${token}. You can find your API key at https://example.invalid/keys.`
        : status === 400
          ? `Invalid value for 'temperature' (request authorized by ${token}).`
          : `Internal error while calling the model with credentials Bearer ${token}`;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message, type: 'server_error', code: null, param: null } }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, server }),
    ),
  );
}

describe('an upstream that quotes the configured key in its errors', () => {
  let upstream: Awaited<ReturnType<typeof quotingUpstream>>;
  let gw: TestGateway;
  const logged: string[] = [];

  before(async () => {
    upstream = await quotingUpstream();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged.push(chunk.toString());
        done();
      },
    });
    gw = await startTestGateway(
      {
        providers: {
          shaped: { type: 'openai', baseUrl: upstream.url, apiKey: OPENAI_SHAPED, forwardHeaders: ['x-test-*'] },
          unshaped: { type: 'openai', baseUrl: upstream.url, apiKey: UNSHAPED, forwardHeaders: ['x-test-*'] },
        },
        models: {
          shaped: { retry: { maxAttempts: 1 }, deployments: [{ provider: 'shaped', model: 'gpt-4o-mini' }] },
          unshaped: { retry: { maxAttempts: 1 }, deployments: [{ provider: 'unshaped', model: 'gpt-4o-mini' }] },
        },
      },
      { logger: pino({ level: 'debug' }, sink) },
    );
  });

  after(async () => {
    await gw.close();
    upstream.server.closeAllConnections();
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
  });

  const clientFor = (status: number) =>
    new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'client-key',
      maxRetries: 0,
      defaultHeaders: { 'x-test-status': String(status) },
    });
  const noKey = (text: string, where: string) => {
    assert.ok(!text.includes(OPENAI_SHAPED), `${where} holds the OpenAI-shaped key: ${text.slice(0, 300)}`);
    assert.ok(!text.includes(UNSHAPED), `${where} holds the unshaped key: ${text.slice(0, 300)}`);
    assert.ok(!text.includes('Qm9vZ2xl'), `${where} holds part of the key`);
  };

  it('401 and 500 quoting the whole key: the SDK sees a clean, fixed message; neither body nor log holds the key', async () => {
    for (const model of ['shaped', 'unshaped']) {
      for (const [status, gatewayStatus, fixed] of [
        [401, 502, /upstream answered 401: the upstream refused the gateway's credentials/],
        [500, 502, /upstream answered 500$/],
      ] as const) {
        await assert.rejects(
          clientFor(status).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
          (err: unknown) => {
            assert.ok(err instanceof OpenAI.APIError);
            assert.equal(err.status, gatewayStatus);
            assert.match(err.message, fixed);
            assert.ok(err.message.includes(`${model}: upstream answered ${status}`), err.message);
            noKey(err.message, `the SDK's error (${model} ${status})`);
            return true;
          },
        );
        const raw = await request(`${gw.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-test-status': String(status) },
          body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
        });
        const text = await raw.body.text();
        assert.equal(raw.statusCode, gatewayStatus);
        noKey(text, `the body (${model} ${status})`);
      }
    }
    const lines = logged.join('');
    assert.match(
      lines,
      /"upstreamMessage":"Incorrect API key provided: \[redacted\]\./,
      'the log keeps the redacted upstream text',
    );
    noKey(lines, 'the log');
    // The access line is written without pino's path redaction: the upstream's text in it was
    // redacted where it was made (providers/http), and nothing else in it can hold a secret.
    const access = logged
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'request');
    assert.equal(access.length, 8, 'one access line per call');
    assert.ok(access.every((line) => String(line.upstreamMessage).includes('[redacted]')));
    const allowed = new Set<string>(['level', 'time', 'pid', 'hostname', 'msg', ...ACCESS_LOG_FIELDS]);
    for (const line of access)
      assert.deepEqual(
        Object.keys(line).filter((key) => !allowed.has(key)),
        [],
      );
  });

  it("the caller's own 400 keeps the upstream's message, with the key redacted", async () => {
    for (const model of ['shaped', 'unshaped']) {
      await assert.rejects(
        clientFor(400).chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
        (err: unknown) => {
          assert.ok(err instanceof OpenAI.BadRequestError);
          assert.match(err.message, /Invalid value for 'temperature' \(request authorized by \[redacted\]\)/);
          noKey(err.message, `the SDK's error (${model} 400)`);
          return true;
        },
      );
    }
    noKey(logged.join(''), 'the log');
  });
});
