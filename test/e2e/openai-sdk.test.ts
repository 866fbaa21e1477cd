import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { startMockServer, type MockServer } from '../../src/mock/mock-server.js';
import type { CallSummary } from '../../src/observability/call-summary.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * The official `openai` package, pointed at a running Tollgate over a real socket; Tollgate's
 * upstream is the mock speaking the OpenAI wire format on another socket.
 */
describe('official openai SDK against a running gateway', () => {
  let mock: MockServer;
  let gw: TestGateway;
  let client: OpenAI;
  const calls: CallSummary[] = [];

  before(async () => {
    mock = await startMockServer({ port: 0 });
    const upstream = (extra: Record<string, unknown> = {}) => ({
      type: 'openai' as const,
      baseUrl: `${mock.url}/v1`,
      apiKey: 'sk-upstream-secret',
      ...extra,
    });
    gw = await startTestGateway(
      {
        server: { bodyLimitBytes: 64 * 1024 },
        providers: {
          up: upstream({ forwardHeaders: ['x-mock-*'] }),
          slow: upstream({ headers: { 'x-mock-hang': '1' }, timeouts: { firstByteMs: 300 } }),
          down: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', timeouts: { connectMs: 500 } },
        },
        models: {
          'gpt-4o-mini': { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] },
          // The 429 test's retry-after pauses its deployment for 7 s, for every request: an alias of its own.
          limited: { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] },
          hangs: { deployments: [{ provider: 'slow', model: 'gpt-4o-mini' }] },
          unreachable: { deployments: [{ provider: 'down', model: 'gpt-4o-mini' }] },
          'text-embedding-3-small': {
            type: 'embeddings',
            deployments: [{ provider: 'up', model: 'text-embedding-3-small' }],
          },
        },
      },
      { observers: [(s) => calls.push(s)] },
    );
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0 });
  });

  after(async () => {
    await gw.close();
    await mock.close();
  });

  const messages = [
    { role: 'system' as const, content: 'You are terse.' },
    { role: 'user' as const, content: 'Name three rivers in Europe.' },
  ];

  it('chat completion: content, usage and the request id', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.ok((data.choices[0]?.message.content ?? '').length > 10);
    assert.equal(data.choices[0]?.finish_reason, 'stop');
    assert.ok(data.usage && data.usage.prompt_tokens > 10 && data.usage.completion_tokens > 0);
    assert.equal(data.usage.total_tokens, data.usage.prompt_tokens + data.usage.completion_tokens);
    assert.match(response.headers.get('x-request-id') ?? '', /^req_/);
    assert.equal(response.headers.get('x-tollgate-deployment'), 'gpt-4o-mini#0');
  });

  it('stream without include_usage: the same text, and no usage key anywhere', async () => {
    const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages, stream: true });
    let text = '';
    let count = 0;
    for await (const chunk of stream) {
      count++;
      assert.equal('usage' in chunk, false, 'no usage key when the client did not ask');
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.ok(count > 3);
    assert.equal(text, whole.choices[0]?.message.content);
  });

  it('stream with include_usage: exactly one final usage chunk with choices [], usage null before it', async () => {
    const whole = await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.deepEqual(last.usage, whole.usage);
    for (const chunk of chunks.slice(0, -1)) assert.equal(chunk.usage, null);
    assert.equal(chunks.filter((c) => c.usage).length, 1);
  });

  it('embeddings and the models list', async () => {
    const embeddings = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta gamma'],
    });
    assert.equal(embeddings.data.length, 2);
    assert.equal(embeddings.data[0]?.embedding.length, 1536);
    assert.ok(embeddings.usage.prompt_tokens >= 3);
    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id).sort(), [
      'gpt-4o-mini',
      'hangs',
      'limited',
      'text-embedding-3-small',
      'unreachable',
    ]);
  });

  it('unknown model → NotFoundError model_not_found', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'gpt-9', messages }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      assert.equal(err.param, 'model');
      return true;
    });
  });

  it('schema violation → BadRequestError naming the field', async () => {
    await assert.rejects(
      client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'x' }],
        temperature: 7,
      }),
      (err: unknown) =>
        err instanceof OpenAI.BadRequestError && err.param === 'temperature' && /temperature/.test(err.message),
    );
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'messages',
    );
  });

  it('body over the configured cap → 413', async () => {
    const huge = 'x'.repeat(70 * 1024);
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: huge }] }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 413);
        assert.equal(err.type, 'invalid_request_error');
        return true;
      },
    );
  });

  it('malformed JSON → 400 naming the problem (raw HTTP: an SDK cannot send it)', async () => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "gpt-4o-mini", "messages": [',
    });
    assert.equal(res.statusCode, 400);
    const body = (await res.body.json()) as { error: { code: string; message: string; type: string } };
    assert.equal(body.error.code, 'invalid_json');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /JSON/);
  });

  it('upstream 500 → InternalServerError 502 with the upstream status kept', async () => {
    const failing = client.withOptions({ defaultHeaders: { 'x-mock-error-rate': '1', 'x-mock-error-status': '500' } });
    await assert.rejects(
      failing.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse(),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.InternalServerError);
        assert.equal(err.status, 502);
        assert.equal(err.code, 'upstream_error');
        assert.match(err.message, /500/);
        assert.equal(err.headers.get('x-tollgate-upstream-status'), '500');
        return true;
      },
    );
  });

  it('upstream 429 → RateLimitError with retry-after passed on', async () => {
    const limited = client.withOptions({
      defaultHeaders: { 'x-mock-error-rate': '1', 'x-mock-error-status': '429', 'x-mock-retry-after-s': '7' },
    });
    await assert.rejects(limited.chat.completions.create({ model: 'limited', messages }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.RateLimitError);
      assert.equal(err.headers.get('retry-after'), '7');
      return true;
    });
  });

  it('upstream that never answers → 504 after the first-byte timeout', async () => {
    const started = performance.now();
    await assert.rejects(client.chat.completions.create({ model: 'hangs', messages }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 504);
      assert.equal(err.type, 'timeout_error');
      return true;
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 280 && elapsed < 3_000, `took ${elapsed} ms`);
  });

  it('upstream refusing connections → 503 upstream_unavailable', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'unreachable', messages }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 503);
      assert.equal(err.code, 'upstream_unavailable');
      return true;
    });
  });

  it('honours the client x-request-id', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages }, { headers: { 'x-request-id': 'trace-abc-123' } })
      .withResponse();
    assert.equal(response.headers.get('x-request-id'), 'trace-abc-123');
    assert.ok(calls.some((c) => c.requestId === 'trace-abc-123' && c.status === 200));
  });

  it('a client that disconnects mid-stream aborts the upstream call; the call is recorded aborted', async () => {
    const controller = new AbortController();
    const slowClient = client.withOptions({
      defaultHeaders: { 'x-mock-chunk-delay-ms': '50', 'x-request-id': 'disconnect-1' },
    });
    const stream = await slowClient.chat.completions.create(
      { model: 'gpt-4o-mini', messages, stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    // The SDK ends the iteration quietly on its own abort.
    try {
      for await (const _chunk of stream) {
        if (++seen === 3) controller.abort();
      }
    } catch {
      // some runtimes surface the abort as an error; either way the socket is gone
    }
    assert.equal(seen, 3);
    const deadline = Date.now() + 2_000;
    while (!calls.some((c) => c.requestId === 'disconnect-1') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const call = calls.find((c) => c.requestId === 'disconnect-1');
    assert.ok(call, 'the disconnected call was settled');
    assert.equal(call.outcome, 'aborted');
    assert.equal(call.status, 499);
    assert.ok(call.latencyMs < 1_000, 'settled at disconnect, not at the natural end of the stream');
  });

  it('every call above left a summary with the tokens the client saw', () => {
    const ok = calls.filter((c) => c.status === 200 && !c.stream && c.alias === 'gpt-4o-mini');
    assert.ok(ok.length >= 3);
    for (const c of ok) {
      assert.equal(c.provider, 'up');
      assert.equal(c.upstreamModel, 'gpt-4o-mini');
      assert.ok(c.inputTokens > 10 && c.outputTokens > 0);
      assert.equal(c.estimated, false);
    }
  });
});
