import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import type { CallSummary } from '../../src/observability/call-summary.js';
import { startMockServer, type MockServer } from '../../src/mock/mock-server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Honest streams: a failure is never a clean end, and before the first byte it is a real HTTP error. */
describe('stream failures as the client sees them', () => {
  let mock: MockServer;
  let gw: TestGateway;
  let client: OpenAI;
  const calls: CallSummary[] = [];

  before(async () => {
    mock = await startMockServer({ port: 0 });
    gw = await startTestGateway(
      {
        providers: {
          up: { type: 'openai', baseUrl: `${mock.url}/v1`, forwardHeaders: ['x-mock-*'], timeouts: { stallMs: 400 } },
        },
        models: { m: { deployments: [{ provider: 'up', model: 'gpt-4o-mini' }] } },
      },
      { observers: [(s) => calls.push(s)] },
    );
    client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'k', maxRetries: 0 });
  });
  after(async () => {
    await gw.close();
    await mock.close();
  });

  const streamWith = (headers: Record<string, string>) =>
    client.chat.completions.create(
      { model: 'm', stream: true, messages: [{ role: 'user', content: 'Write a paragraph about rivers.' }] },
      { headers },
    );

  const settled = async (requestId: string): Promise<CallSummary> => {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const call = calls.find((c) => c.requestId === requestId);
      if (call) return call;
      if (Date.now() > deadline) throw new Error(`call ${requestId} never settled`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('an upstream error event before the first chunk becomes a proper HTTP 502, not a 200 stream', async () => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-error-event-after': '0', 'x-request-id': 'early-error' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.statusCode, 502);
    assert.match(String(res.headers['content-type']), /application\/json/);
    const body = (await res.body.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'upstream_error');
    const call = await settled('early-error');
    assert.equal(call.outcome, 'error');
    assert.equal(call.status, 502);
  });

  it('a cut after 3 chunks: the SDK gets 3 chunks then raises; the call is truncated with estimated tokens', async () => {
    const stream = await streamWith({ 'x-mock-cut-after': '3', 'x-request-id': 'cut-3' });
    const texts: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) texts.push(chunk.choices[0]?.delta.content ?? '');
      })(),
      (err: unknown) => err instanceof OpenAI.APIError && /stream/i.test(err.message),
    );
    // role chunk + 3 content chunks
    assert.equal(texts.filter((t) => t.length > 0).length, 3);
    const call = await settled('cut-3');
    assert.equal(call.outcome, 'truncated');
    assert.equal(call.status, 200);
    assert.equal(call.estimated, true);
    assert.ok(call.outputTokens >= 1 && call.outputTokens <= 6, `outputTokens ${call.outputTokens}`);
  });

  it('an upstream that stalls mid-stream is cut at the stall timeout with a typed in-band error', async () => {
    const started = Date.now();
    const stream = await streamWith({ 'x-mock-stall-after': '2', 'x-request-id': 'stall-2' });
    let error: unknown;
    try {
      for await (const _chunk of stream) {
        // drain
      }
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof OpenAI.APIError, 'the stall surfaced as an error, not a clean end');
    assert.match(error.message, /stall/i);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 380 && elapsed < 3_000, `elapsed ${elapsed} ms`);
    assert.equal((await settled('stall-2')).outcome, 'truncated');
  });

  it('malformed SSE from the upstream ends the stream with an in-band error, never [DONE]', async () => {
    const res = await request(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-malformed': 'sse' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.body.text();
    if (res.statusCode === 200) {
      assert.doesNotMatch(text, /\[DONE\]/);
      assert.match(text, /"error":\{/);
    } else {
      assert.equal(res.statusCode, 502, 'malformed before the first chunk is a plain 502');
    }
  });
});
