import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfigInput } from '../config/schema.js';
import { FakeClock } from '../core/clock.js';
import { GatewayError } from '../core/errors.js';
import type { GatewayResult } from '../core/pipeline.js';
import {
  byDeployment,
  chainAll,
  chatCall,
  chunk,
  drain,
  fakeContext,
  okChat,
  seeded,
  streamCall,
  streamOf,
  testStates,
  type Step,
} from '../../test/kits/resilience-test-kit.js';
import type { StaleAnswerSource } from './degrade.js';
import { routeToDeployment } from './route.js';

const fast = { maxAttempts: 2, initialDelayMs: 0, maxDelayMs: 0, jitter: 'none' as const };

function setup(
  alias: NonNullable<ConfigInput['models']>[string],
  scripts: Record<string, Step[]>,
  stale?: StaleAnswerSource,
) {
  const clock = new FakeClock();
  const { states, registry } = testStates({ chat: { retry: fast, ...alias } }, clock);
  const upstream = byDeployment(scripts);
  chainAll(states, upstream);
  const handle = routeToDeployment(registry, { states, stale, random: seeded(1) });
  return {
    clock,
    states,
    upstream,
    handle,
    run: (call = chatCall()) => {
      const t = fakeContext(clock);
      return { ctx: t.ctx, result: handle(call, t.ctx) };
    },
  };
}

const two = (extra: Record<string, unknown> = {}) => ({
  deployments: [
    { id: 'primary', provider: 'mock', model: 'a' },
    { id: 'fallback', provider: 'other', model: 'b' },
  ],
  ...extra,
});
const e500 = () => new GatewayError('upstream_error', 'boom', { upstreamStatus: 500 });
const e429 = (ms = 30_000) => new GatewayError('rate_limited', 'slow down', { upstreamStatus: 429, retryAfterMs: ms });
const outcomes = (ctx: { record: { attempts: { deployment: string; outcome: string }[] } }) =>
  ctx.record.attempts.map((a) => `${a.deployment}:${a.outcome}`);

describe('routeToDeployment', () => {
  it('rate_limited → the next deployment; headers and the record say so', async () => {
    const { run } = setup(two(), { primary: [e429()], fallback: [okChat('from fallback')] });
    const { ctx, result } = run();
    const answer = await result;
    assert.equal(answer.kind === 'chat' && answer.response.choices[0]?.message.content, 'from fallback');
    assert.deepEqual(outcomes(ctx), ['primary:rate_limited', 'fallback:ok']);
    assert.equal(ctx.responseHeaders['x-tollgate-deployment'], 'fallback');
    assert.equal(ctx.responseHeaders['x-tollgate-attempts'], '2');
    assert.equal(ctx.record.fallbackUsed, true);
    assert.equal(ctx.record.deployment?.id, 'fallback');
  });

  it('retries first, then falls back: every attempt is recorded', async () => {
    const { run } = setup(two(), { primary: [e500()], fallback: [okChat()] });
    const { ctx, result } = run();
    await result;
    assert.deepEqual(outcomes(ctx), ['primary:upstream_error', 'primary:upstream_error', 'fallback:ok']);
  });

  it('content_filtered never falls back (default rule); other 4xx neither', async () => {
    for (const error of [
      new GatewayError('content_filtered', 'no'),
      new GatewayError('upstream_bad_request', 'bad', { status: 422 }),
    ]) {
      const { run, upstream } = setup(two(), { primary: [error], fallback: [okChat()] });
      const { ctx, result } = run();
      await assert.rejects(result, { code: error.code });
      assert.deepEqual(
        upstream.calls.map((c) => c.deployment),
        ['primary'],
      );
      assert.equal(ctx.responseHeaders['x-tollgate-attempts'], '1');
    }
  });

  it('fallbackOn is configurable per alias', async () => {
    const { run, upstream, clock } = setup(two({ fallbackOn: { rate_limited: 'none', content_filtered: 'next' } }), {
      primary: [e429(), new GatewayError('content_filtered', 'no')],
      fallback: [okChat()],
    });
    await assert.rejects(run().result, { code: 'rate_limited' });
    await clock.advance(30_000); // the 429's retry-after pauses the primary until then
    await run().result;
    assert.deepEqual(
      upstream.calls.map((c) => c.deployment),
      ['primary', 'primary', 'fallback'],
    );
  });

  it('codes without a rule: retryable ones fall back, others do not', async () => {
    const { run, upstream } = setup(two({ retry: { maxAttempts: 1 } }), {
      primary: [new GatewayError('shutting_down', 'draining'), new GatewayError('internal_error', 'bug')],
      fallback: [okChat()],
    });
    await run().result;
    await assert.rejects(run().result, { code: 'internal_error' });
    assert.deepEqual(
      upstream.calls.map((c) => c.deployment),
      ['primary', 'fallback', 'primary'],
    );
  });

  it('context_length_exceeded → the next deployment with a larger context window', async () => {
    const tooLong = new GatewayError('context_length_exceeded', 'too long');
    const { run, upstream } = setup(
      {
        deployments: [
          { id: 'small', provider: 'mock', model: 'a', contextWindow: 8_000 },
          { id: 'same', provider: 'mock', model: 'b', contextWindow: 8_000 },
          { id: 'large', provider: 'other', model: 'c', contextWindow: 128_000 },
        ],
      },
      { small: [tooLong], same: [tooLong], large: [okChat()] },
    );
    const { ctx, result } = run();
    await result;
    assert.deepEqual(
      upstream.calls.map((c) => c.deployment),
      ['small', 'large'],
    );
    assert.equal(ctx.responseHeaders['x-tollgate-deployment'], 'large');
  });

  it('context length with no larger deployment left: the 400 itself, not a 503 or a degraded answer', async () => {
    const tooLong = new GatewayError('context_length_exceeded', 'too long');
    const { run, upstream } = setup(
      {
        degraded: { message: 'Busy.' },
        deployments: [
          { id: 'big', provider: 'mock', model: 'a', contextWindow: 128_000 },
          { id: 'small', provider: 'other', model: 'b', contextWindow: 8_000 },
        ],
      },
      { big: [tooLong], small: [okChat()] },
    );
    await assert.rejects(run().result, { code: 'context_length_exceeded' });
    assert.deepEqual(
      upstream.calls.map((c) => c.deployment),
      ['big'],
    );
  });

  it('an open circuit takes a deployment out: no attempt, straight to the fallback', async () => {
    const { run, upstream, states, clock } = setup(two({ breaker: { consecutiveFailures: 1, openMs: 5_000 } }), {
      primary: [e500(), e500(), okChat('primary is back')],
      fallback: [okChat('fallback')],
    });
    await run().result; // primary fails twice (one call: opens), fallback serves
    const { ctx, result } = run();
    await result;
    assert.deepEqual(outcomes(ctx), ['fallback:ok'], 'no attempt on the open primary');
    assert.equal(ctx.record.fallbackUsed, true);
    assert.equal(upstream.calls.filter((c) => c.deployment === 'primary').length, 2);
    await clock.advance(5_000);
    const probe = run();
    await probe.result;
    assert.deepEqual(outcomes(probe.ctx), ['primary:ok'], 'half-open: the probe goes to the primary');
    assert.equal(states.get(probe.ctx.record.deployment!).breaker.state, 'half_open', 'three probes close it');
  });

  it('every deployment failed: 503 no_deployment_available naming the alias and every attempt, retry-after', async () => {
    const { run } = setup(two(), { primary: [e500()], fallback: [e429(5_000)] });
    const { ctx, result } = run();
    await assert.rejects(result, (err: GatewayError) => {
      assert.equal(err.code, 'no_deployment_available');
      assert.equal(err.status, 503);
      assert.match(err.message, /`chat`/);
      assert.match(
        err.message,
        /#1 primary: upstream_error \(500\); #2 primary: upstream_error \(500\); #3 fallback: rate_limited \(429\)/,
      );
      assert.equal(err.retryAfterMs, 5_000, "the fallback's retry-after is the soonest known wait");
      assert.ok(err.cause instanceof AggregateError && err.cause.errors.length === 2);
      return true;
    });
    assert.equal(ctx.responseHeaders['x-tollgate-attempts'], '3');
  });

  it('every deployment open: 503 without any attempt, retry-after = time to the first probe', async () => {
    const { run, clock } = setup(
      two({ breaker: { consecutiveFailures: 1, openMs: 8_000 }, retry: { maxAttempts: 1 } }),
      {
        primary: [e500()],
        fallback: [e500()],
      },
    );
    await assert.rejects(run().result, { code: 'no_deployment_available' });
    await clock.advance(3_000);
    const { ctx, result } = run();
    await assert.rejects(result, (err: GatewayError) => {
      assert.match(
        err.message,
        /primary: skipped, circuit open, probes in 5 s; fallback: skipped, circuit open, probes in 5 s/,
      );
      assert.equal(err.retryAfterMs, 5_000);
      return true;
    });
    assert.equal(ctx.responseHeaders['x-tollgate-attempts'], '0');
  });

  it('a single-deployment alias keeps its own error (a 429 stays a 429 with retry-after)', async () => {
    const { run } = setup({ deployments: [{ id: 'only', provider: 'mock', model: 'a' }] }, { only: [e429(7_000)] });
    await assert.rejects(
      run().result,
      (err: GatewayError) => err.code === 'rate_limited' && err.retryAfterMs === 7_000,
    );
  });

  it('degraded: the configured answer, marked, when every deployment failed', async () => {
    const { run } = setup(two({ degraded: { message: 'Busy, try later.' } }), {
      primary: [e500()],
      fallback: [e500()],
    });
    const { ctx, result } = run();
    const answer = await result;
    assert.equal(answer.kind === 'chat' && answer.response.choices[0]?.message.content, 'Busy, try later.');
    assert.equal(ctx.responseHeaders['x-tollgate-degraded'], 'message');
    assert.equal(ctx.record.outcome, 'degraded');
    assert.equal(ctx.record.error?.code, 'no_deployment_available');
    assert.equal(ctx.record.deployment, null);
    const streamed = run(streamCall());
    const chunks = await drain(await streamed.result);
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Busy, try later.');
  });

  it('the stale-answer hook is asked first', async () => {
    const stale: StaleAnswerSource = { find: async (): Promise<GatewayResult> => okChat('cached yesterday') };
    const { run } = setup(two({ degraded: { message: 'Busy.' } }), { primary: [e500()], fallback: [e500()] }, stale);
    const { ctx, result } = run();
    const answer = await result;
    assert.equal(answer.kind === 'chat' && answer.response.choices[0]?.message.content, 'cached yesterday');
    assert.equal(ctx.responseHeaders['x-tollgate-degraded'], 'stale');
  });

  it('streams: a failure before the first token falls back; after it, the error stays in the stream', async () => {
    const cut = new GatewayError('upstream_error', 'other side closed');
    const role = chunk({ role: 'assistant', content: '' });
    const early = setup(two({ retry: { maxAttempts: 1 } }), {
      primary: [streamOf([role], { failWith: cut })],
      fallback: [streamOf([role, chunk({ content: 'ok' })])],
    });
    const first = early.run(streamCall());
    assert.equal((await drain(await first.result)).length, 2);
    assert.deepEqual(outcomes(first.ctx), ['primary:upstream_error', 'fallback:ok']);

    const late = setup(two(), {
      primary: [streamOf([role, chunk({ content: 'partial' })], { failWith: cut })],
      fallback: [streamOf([role, chunk({ content: 'ok' })])],
    });
    const second = late.run(streamCall());
    await assert.rejects(drain(await second.result), { code: 'upstream_error' });
    assert.deepEqual(
      late.upstream.calls.map((c) => c.deployment),
      ['primary'],
      'no retry, no fallback after the first token',
    );
    assert.deepEqual(outcomes(second.ctx), ['primary:upstream_error'], "the attempt's outcome says what happened");
  });
});
