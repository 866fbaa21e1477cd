import assert from 'node:assert/strict';
import { chunksOf } from '../../core/chunk-batch.js';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CREATED,
  fixtureJson,
  fixtureNames,
  fixtureText,
  type ErrorFixture,
  type ResponseFixture,
} from '../../../test/helpers/anthropic-fixtures.js';
import { providerSchema, type AnthropicProviderConfig } from '../schema.js';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest } from '../../core/types.js';
import { mockTestContext } from '../../../test/kits/mock-test-kit.js';
import type { Provider } from '../types.js';
import { createAnthropicProvider } from './anthropic-provider.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}
type Reply = { status: number; headers?: Record<string, string>; body: string };

/**
 * The provider against a local HTTP server that answers with the recorded fixtures: real
 * sockets, the real undici pool, the real SSE reader.
 */
describe('anthropic provider (fixtures over a socket)', () => {
  let server: Server;
  let provider: Provider;
  let seen: Seen[] = [];
  let reply: Reply = { status: 200, body: '{}' };

  before(async () => {
    server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        seen.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: JSON.parse(Buffer.concat(parts).toString()),
        });
        const type = reply.body.startsWith('event:') ? 'text/event-stream' : 'application/json';
        res.writeHead(reply.status, { 'content-type': type, ...reply.headers }).end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const config = providerSchema.parse({
      type: 'anthropic',
      baseUrl: `http://127.0.0.1:${port}/proxy`,
      apiKey: 'sk-ant-test',
      defaultMaxTokens: 512,
      headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' },
      forwardHeaders: ['x-trace-*', 'x-api-key'],
    }) as AnthropicProviderConfig;
    provider = createAnthropicProvider('claude', config);
  });
  after(async () => {
    await provider.close?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen = [];
  });

  const request: ChatRequest = {
    model: 'claude-sonnet-4-5',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello' },
    ],
  };
  const context = () => mockTestContext({ 'x-trace-id': 't-1', 'x-api-key': 'client-key-to-tollgate' }).ctx;

  it('sends the translated request to <baseUrl>/v1/messages with x-api-key and anthropic-version', async () => {
    reply = { status: 200, body: JSON.stringify(fixtureJson<ResponseFixture>('responses/text.json').anthropic) };
    await provider.chat(request, context());
    const [call] = seen;
    assert.equal(call?.method, 'POST');
    assert.equal(call?.url, '/proxy/v1/messages');
    assert.equal(call?.headers['x-api-key'], 'sk-ant-test', "the configured key, never the client's");
    assert.equal(call?.headers['anthropic-version'], '2023-06-01');
    assert.equal(call?.headers['anthropic-beta'], 'prompt-caching-2024-07-31');
    assert.equal(call?.headers['x-trace-id'], 't-1');
    assert.equal(call?.headers.authorization, undefined);
    assert.deepEqual(call?.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 512,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Hello' }],
    });
  });

  for (const name of fixtureNames('responses', '.json')) {
    it(`non-stream ${name}: the canonical completion`, async () => {
      const fixture = fixtureJson<ResponseFixture>(`responses/${name}.json`);
      reply = { status: 200, body: JSON.stringify(fixture.anthropic) };
      assert.deepEqual(await provider.chat(request, context()), fixture.canonical);
    });
  }

  for (const name of fixtureNames('streams', '.chunks.json')) {
    it(`stream ${name}: asks for a stream and yields the canonical chunks`, async () => {
      reply = { status: 200, body: fixtureText(`streams/${name}.sse`) };
      const chunks: ChatChunk[] = [];
      for await (const chunk of chunksOf(await provider.chatStream(request, context()))) chunks.push(chunk);
      assert.equal(seen[0]?.body.stream, true);
      assert.deepEqual(chunks, fixtureJson<ChatChunk[]>(`streams/${name}.chunks.json`));
    });
  }

  it('an error event mid-stream comes out of the iterator as a GatewayError, after the chunks before it', async () => {
    reply = { status: 200, body: fixtureText('streams/error-mid-stream.sse') };
    const chunks: ChatChunk[] = [];
    await assert.rejects(
      async () => {
        for await (const chunk of chunksOf(await provider.chatStream(request, context()))) chunks.push(chunk);
      },
      (err: unknown) => {
        assert.ok(err instanceof GatewayError);
        assert.equal(err.code, 'upstream_error');
        assert.equal(err.retryable, true);
        assert.equal(err.message, 'claude: upstream stream error (overloaded_error)');
        assert.match(err.upstreamMessage ?? '', /^Overloaded/);
        return true;
      },
    );
    assert.deepEqual(
      chunks.map((c) => c.choices[0]?.delta.content),
      ['', 'Hel'],
    );
  });

  it('a stream that ends before message_stop is an error, never a clean end', async () => {
    reply = { status: 200, body: fixtureText('streams/cut-before-message-stop.sse') };
    await assert.rejects(
      async () => {
        for await (const _chunk of await provider.chatStream(request, context()));
      },
      (err: unknown) => err instanceof GatewayError && /ended before message_stop/.test(err.message),
    );
  });

  for (const name of fixtureNames('errors', '.json')) {
    it(`upstream error ${name}: classified by the shared mapping`, async () => {
      const fixture = fixtureJson<ErrorFixture>(`errors/${name}.json`);
      reply = { status: fixture.status, headers: fixture.headers, body: JSON.stringify(fixture.body) };
      await assert.rejects(provider.chat(request, context()), (err: unknown) => {
        assert.ok(err instanceof GatewayError);
        assert.equal(err.code, fixture.expect.code);
        assert.equal(err.status, fixture.expect.status);
        assert.equal(err.retryable, fixture.expect.retryable);
        assert.equal(err.upstreamStatus, fixture.status);
        // The upstream's text reaches the client only for its own 4xx/429; auth failures and 5xx get a
        // fixed message, and the (redacted) text goes to the logs.
        const withheld = fixture.status === 401 || fixture.status === 403 || fixture.status >= 500;
        assert.equal(err.message.includes(fixture.body.error.message), !withheld, err.message);
        assert.equal(err.upstreamMessage, fixture.body.error.message);
        if (fixture.expect.retryAfterMs) assert.equal(err.retryAfterMs, fixture.expect.retryAfterMs);
        return true;
      });
    });
  }

  it('a request it cannot translate fails before any upstream call', async () => {
    await assert.rejects(
      provider.chat({ ...request, n: 3 }, context()),
      (err: unknown) => err instanceof GatewayError && err.code === 'invalid_request' && err.param === 'n',
    );
    assert.equal(seen.length, 0);
  });

  it('has no embeddings', () => {
    assert.equal('embed' in provider, false);
    assert.equal(provider.kind, 'anthropic');
    assert.equal(CREATED, Math.floor(context().clock.wallNow() / 1000));
  });
});
