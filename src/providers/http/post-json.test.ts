import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { providerSchema, type AnthropicProviderConfig, type OpenAIProviderConfig } from '../schema.js';
import { GatewayError } from '../../core/errors.js';
import type { ChatRequest } from '../../core/types.js';
import { countsAsBreakerFailure } from '../../policies/breaker.js';
import { createAnthropicProvider } from '../anthropic/anthropic-provider.js';
import { mockTestContext } from '../../../test/kits/mock-test-kit.js';
import { createOpenAIProvider } from '../openai/openai-provider.js';
import type { Provider } from '../types.js';

/** `{"a":{"a":…}}` `levels` deep, deeper than JSON.stringify's stack can go. */
function deep(levels = 20_000): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const ask = (extra: Record<string, unknown>): ChatRequest => ({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  ...extra,
});

/** The request's fault, as the client, the breaker, retry and fallback see it (`isRequestFault` is held to this in core/errors.test.ts). */
function isRequestsFault(err: unknown): boolean {
  assert.ok(err instanceof GatewayError, `a GatewayError, got ${String(err)}`);
  assert.equal(err.code, 'invalid_request');
  assert.equal(err.status, 400);
  assert.equal(err.retryable, false);
  assert.equal(countsAsBreakerFailure(err), false);
  return true;
}

describe('a request that cannot be built is the request’s fault, not the upstream’s', () => {
  let server: Server;
  let received = 0;
  let openai: Provider;
  let anthropic: Provider;

  before(async () => {
    server = createServer((req, res) => {
      received++;
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"should not be called"}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    openai = createOpenAIProvider(
      'up',
      providerSchema.parse({ type: 'openai', baseUrl: `${url}/v1` }) as OpenAIProviderConfig,
    );
    anthropic = createAnthropicProvider(
      'claude',
      providerSchema.parse({ type: 'anthropic', baseUrl: url }) as AnthropicProviderConfig,
    );
  });

  after(async () => {
    await openai.close?.();
    await anthropic.close?.();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('openai adapter: a stack overflow in the serializer → 400 invalid_request, nothing sent', async () => {
    const { ctx } = mockTestContext();
    await assert.rejects(openai.chat(ask({ response_format: deep() }), ctx), (err: GatewayError) => {
      assert.match(err.message, /^up: the request could not be serialized .*Maximum call stack size exceeded/);
      return isRequestsFault(err);
    });
    await assert.rejects(openai.chatStream(ask({ logit_bias: { 1: deep() } }), ctx), isRequestsFault);
    await assert.rejects(openai.embed!({ model: 'e', input: 'x', extra: deep() }, ctx), isRequestsFault);
    // A library caller's BigInt is the same kind of failure (TypeError from the serializer).
    await assert.rejects(openai.chat(ask({ seed: 10n }), ctx), (err: GatewayError) => {
      assert.match(err.message, /BigInt/);
      return isRequestsFault(err);
    });
    assert.equal(received, 0, 'not a byte went upstream');
  });

  it('anthropic adapter: translation and serialization failures alike', async () => {
    const { ctx } = mockTestContext();
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', x: deep() } } }];
    await assert.rejects(anthropic.chat(ask({ tools }), ctx), isRequestsFault);
    await assert.rejects(anthropic.chatStream(ask({ tools }), ctx), isRequestsFault);
    // The translation's own refusal keeps its message and field.
    await assert.rejects(anthropic.chat(ask({ n: 2 }), ctx), (err: GatewayError) => {
      assert.equal(err.param, 'n');
      return isRequestsFault(err);
    });
    assert.equal(received, 0);
  });
});
