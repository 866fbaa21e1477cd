import { before, describe, it } from 'node:test';
import { chunksOf } from '../../core/chunk-batch.js';
import assert from 'node:assert/strict';
import type { MockScenarioInput } from '../../mock/schema.js';
import { providerSchema, type MockProviderConfig } from '../schema.js';
import { GatewayError } from '../../core/errors.js';
import type { ChatChunk, ChatRequest } from '../../core/types.js';
import { generateChatReply, toChatResponse } from '../../mock/mock-engine.js';
import { createMockProvider } from './mock-provider.js';
import { mockTestContext } from '../../../test/kits/mock-test-kit.js';
import { loadChatTokenCounter, loadEmbeddingTokenCounter } from '../../mock/mock-tokens.js';

const config = (scenario: MockScenarioInput = {}): MockProviderConfig =>
  providerSchema.parse({ type: 'mock', seed: 42, scenario }) as MockProviderConfig;
const req: ChatRequest = { model: 'mock-1', messages: [{ role: 'user', content: 'Say something about gateways' }] };

/** Reports whether a promise has settled yet, without awaiting it. */
function watch(promise: Promise<unknown>): () => boolean {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return () => settled;
}

async function collect(stream: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const gatewayError =
  (code: string, check: (err: GatewayError) => boolean = () => true) =>
  (err: unknown) =>
    err instanceof GatewayError && err.code === code && check(err);

before(async () => {
  // Load the encoders up front so the fake clock alone decides when calls settle.
  await loadChatTokenCounter();
  await loadEmbeddingTokenCounter();
});

describe('mock provider: answers and timing', () => {
  it('answers after latencyMs, with the engine reply', async () => {
    const { ctx, clock } = mockTestContext();
    const pending = createMockProvider('mock', config({ latencyMs: 100 })).chat(req, ctx);
    const settled = watch(pending);
    await clock.advance(99);
    assert.equal(settled(), false);
    await clock.advance(1);
    const expected = toChatResponse(
      await generateChatReply(req, { seed: 42, completionTokens: 24, created: Math.floor(clock.wallNow() / 1000) }),
    );
    assert.deepEqual(await pending, expected);
  });

  it('commits a stream after latency, sends the first chunk after ttft, then one per chunkDelay', async () => {
    const { ctx, clock } = mockTestContext({ 'x-mock-ttft-ms': '30', 'x-mock-chunk-delay-ms': '10' });
    const opened = createMockProvider('mock', config({ latencyMs: 50 })).chatStream(req, ctx);
    const committed = watch(opened);
    await clock.advance(49);
    assert.equal(committed(), false);
    await clock.advance(1);
    const iterator = chunksOf(await opened)[Symbol.asyncIterator]();
    const first = iterator.next();
    const firstSettled = watch(first);
    await clock.advance(29);
    assert.equal(firstSettled(), false);
    await clock.advance(1);
    assert.deepEqual((await first).value?.choices[0]?.delta, { role: 'assistant', content: '' });
    const second = iterator.next();
    const secondSettled = watch(second);
    await clock.advance(9);
    assert.equal(secondSettled(), false);
    await clock.advance(1);
    assert.equal((await second).value?.choices[0]?.delta.content, 'Mock');
    await iterator.return?.(undefined);
  });

  it('always ends a stream with the usage chunk, as the openai provider asks for it', async () => {
    const { ctx } = mockTestContext();
    const chunks = await collect(chunksOf(await createMockProvider('mock', config()).chatStream(req, ctx)));
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.equal(chunks.at(-1)?.usage?.completion_tokens, 24);
  });

  it('embeds, and honours x-mock-completion-tokens', async () => {
    const { ctx } = mockTestContext({ 'x-mock-completion-tokens': '5' });
    const mock = createMockProvider('mock', config());
    assert.equal((await mock.chat(req, ctx)).usage?.completion_tokens, 5);
    const res = await mock.embed?.({ model: 'e', input: ['a', 'b'] }, ctx);
    assert.equal(res?.data.length, 2);
  });
});

describe('mock provider: faults map to the openai provider errors', () => {
  const chatWith = (headers: Record<string, string>, scenario: MockScenarioInput = {}) =>
    createMockProvider('mock', config(scenario)).chat(req, mockTestContext(headers).ctx);

  it('429 → rate_limited with retryAfterMs and upstreamStatus', async () => {
    await assert.rejects(
      chatWith({ 'x-mock-error-status': '429', 'x-mock-retry-after-s': '3' }),
      gatewayError('rate_limited', (e) => e.retryAfterMs === 3000 && e.upstreamStatus === 429),
    );
    await assert.rejects(
      chatWith({ 'x-mock-error-status': '429' }),
      gatewayError('rate_limited', (e) => e.retryAfterMs === 1000),
    );
  });

  it('5xx and 529 → upstream_error; 4xx → upstream_bad_request or upstream_auth_failed', async () => {
    await assert.rejects(
      chatWith({ 'x-mock-error-status': '503' }),
      gatewayError('upstream_error', (e) => e.upstreamStatus === 503),
    );
    await assert.rejects(
      chatWith({ 'x-mock-error-status': '529' }),
      gatewayError('upstream_error', (e) => e.upstreamStatus === 529),
    );
    await assert.rejects(
      chatWith({ 'x-mock-error-status': '400' }),
      gatewayError('upstream_bad_request', (e) => e.status === 400),
    );
    await assert.rejects(chatWith({ 'x-mock-error-status': '401' }), gatewayError('upstream_auth_failed'));
  });

  it('reset → upstream_error; malformed JSON → upstream_error', async () => {
    await assert.rejects(
      chatWith({ 'x-mock-reset': '1' }),
      gatewayError('upstream_error', (e) => /ECONNRESET/.test(e.message)),
    );
    await assert.rejects(
      chatWith({ 'x-mock-malformed': 'json' }),
      gatewayError('upstream_error', (e) => e.upstreamStatus === 200),
    );
  });

  it('a bad request or a bad x-mock header → upstream_bad_request naming the param', async () => {
    const mock = createMockProvider('mock', config());
    await assert.rejects(
      mock.chat({ ...req, n: 2 }, mockTestContext().ctx),
      gatewayError('upstream_bad_request', (e) => e.param === 'n'),
    );
    await assert.rejects(
      chatWith({ 'x-mock-latency-ms': 'soon' }),
      gatewayError('upstream_bad_request', (e) => e.param === 'x-mock-latency-ms'),
    );
  });

  it('hang waits until the signal aborts, then fails with its reason', async () => {
    const { ctx, clock, abort } = mockTestContext({ 'x-mock-hang': '1' });
    const pending = createMockProvider('mock', config()).chat(req, ctx);
    const settled = watch(pending);
    await clock.advance(3_600_000);
    assert.equal(settled(), false);
    abort(new GatewayError('upstream_timeout', 'mock: first byte'));
    await assert.rejects(pending, gatewayError('upstream_timeout'));
    const other = mockTestContext({ 'x-mock-hang': '1' });
    const orphan = createMockProvider('mock', config()).chatStream(req, other.ctx);
    other.abort();
    await assert.rejects(orphan, gatewayError('client_closed'));
  });
});

describe('mock provider: stream faults come out of the iterator', () => {
  const streamWith = async (headers: Record<string, string>) => {
    const { ctx, clock, abort } = mockTestContext(headers);
    const stream = await createMockProvider('mock', config()).chatStream(req, ctx);
    const chunks: ChatChunk[] = [];
    const done = (async () => {
      for await (const chunk of chunksOf(stream)) chunks.push(chunk);
    })();
    return { chunks, done, clock, abort };
  };

  it('cut-after N: N content chunks, then upstream_error', async () => {
    const { chunks, done } = await streamWith({ 'x-mock-cut-after': '2' });
    await assert.rejects(
      done,
      gatewayError('upstream_error', (e) => /other side closed/.test(e.message)),
    );
    assert.deepEqual(
      chunks.map((c) => c.choices[0]?.delta.content),
      ['', 'Mock', ' reply'],
    );
  });

  it('stall-after N: N content chunks, then silence until the signal aborts', async () => {
    const { chunks, done, clock, abort } = await streamWith({ 'x-mock-stall-after': '1' });
    const settled = watch(done);
    await clock.advance(3_600_000);
    assert.equal(settled(), false);
    assert.equal(chunks.length, 2);
    abort(new GatewayError('upstream_timeout', 'mock: stalled'));
    await assert.rejects(done, gatewayError('upstream_timeout'));
  });

  it('error-event-after N and malformed sse → upstream_error after the chunks before them', async () => {
    const event = await streamWith({ 'x-mock-error-event-after': '3', 'x-mock-error-status': '503' });
    await assert.rejects(
      event.done,
      gatewayError('upstream_error', (e) => /stream error: The engine is currently overloaded/.test(e.message)),
    );
    assert.equal(event.chunks.length, 4);
    const broken = await streamWith({ 'x-mock-malformed': 'sse' });
    await assert.rejects(
      broken.done,
      gatewayError('upstream_error', (e) => /malformed stream event/.test(e.message)),
    );
    assert.equal(broken.chunks.length, 1);
  });
});

describe('mock provider: seeded error rates', () => {
  it('fails about 30% with 5xx and 10% with 429 over 1,000 calls, the same way every run', async () => {
    const run = async (): Promise<string[]> => {
      const mock = createMockProvider(
        'mock',
        config({
          errors: [
            { status: 500, rate: 0.3 },
            { status: 429, rate: 0.1 },
          ],
        }),
      );
      const outcomes: string[] = [];
      for (let i = 0; i < 1000; i++) {
        outcomes.push(
          await mock.chat(req, mockTestContext().ctx).then(
            () => 'ok',
            (err: GatewayError) => err.code,
          ),
        );
      }
      return outcomes;
    };
    const outcomes = await run();
    const count = (code: string) => outcomes.filter((o) => o === code).length;
    assert.ok(Math.abs(count('upstream_error') - 300) < 45, `upstream_error ${count('upstream_error')}`);
    assert.ok(Math.abs(count('rate_limited') - 100) < 30, `rate_limited ${count('rate_limited')}`);
    assert.deepEqual(await run(), outcomes);
  });
});
