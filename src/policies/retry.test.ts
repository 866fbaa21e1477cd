import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { GatewayError } from '../core/errors.js';
import { compose } from '../core/pipeline.js';
import {
  chatCall,
  fakeContext,
  okChat,
  scripted,
  serving,
  testStates,
  watch,
} from '../../test/kits/resilience-test-kit.js';
import { attempt } from './attempt.js';
import { retry } from './retry.js';

type RetryInput = Record<string, unknown>;

function setup(retrySettings: RetryInput) {
  const clock = new FakeClock();
  const { states, deployments } = testStates(
    { chat: { retry: retrySettings, deployments: [{ id: 'primary', provider: 'mock', model: 'm' }] } },
    clock,
  );
  const deployment = deployments('chat')[0]!;
  return { clock, states, deployment };
}

const noJitter = { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'none' };
const upstream500 = () => new GatewayError('upstream_error', 'openai: upstream answered 500', { upstreamStatus: 500 });

describe('retry policy', () => {
  it('retries a retryable upstream error after the backoff, then succeeds', async () => {
    const { clock, states, deployment } = setup({ maxAttempts: 3, ...noJitter });
    const next = scripted([upstream500(), upstream500(), okChat('hi')]);
    const handler = compose(retry(states.get(deployment)), attempt(states.get(deployment)))(serving(next, deployment));
    const { ctx } = fakeContext(clock);
    const pending = handler(chatCall(), ctx);
    const settled = watch(pending);
    await clock.advance(99);
    assert.equal(next.calls.length, 1, 'still backing off');
    await clock.advance(1);
    assert.equal(next.calls.length, 2);
    await clock.advance(200);
    assert.equal(settled(), true);
    assert.equal((await pending).kind, 'chat');
    assert.deepEqual(
      next.calls.map((c) => c.at),
      [0, 100, 300],
    );
    assert.deepEqual(
      ctx.record.attempts.map((a) => [a.deployment, a.outcome, a.status]),
      [
        ['primary', 'upstream_error', 500],
        ['primary', 'upstream_error', 500],
        ['primary', 'ok', 200],
      ],
    );
  });

  it('does not retry a non-retryable error', async () => {
    const { clock, states, deployment } = setup({ maxAttempts: 3, ...noJitter });
    const next = scripted([new GatewayError('upstream_bad_request', 'bad', { status: 400 })]);
    const { ctx } = fakeContext(clock);
    await assert.rejects(retry(states.get(deployment)).wrap(serving(next, deployment))(chatCall(), ctx), {
      code: 'upstream_bad_request',
    });
    assert.equal(next.calls.length, 1);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { clock, states, deployment } = setup({ maxAttempts: 2, ...noJitter });
    const next = scripted([upstream500(), new GatewayError('upstream_timeout', 'slow')]);
    const { ctx } = fakeContext(clock);
    const pending = retry(states.get(deployment)).wrap(serving(next, deployment))(chatCall(), ctx);
    pending.catch(() => undefined);
    await clock.advance(100);
    await assert.rejects(pending, { code: 'upstream_timeout' });
    assert.equal(next.calls.length, 2);
  });

  it('honours retry-after: waits as long as the upstream asked, not the shorter backoff', async () => {
    const { clock, states, deployment } = setup({ maxAttempts: 2, ...noJitter, retryAfterMaxMs: 2_000 });
    const limited = new GatewayError('rate_limited', '429', { upstreamStatus: 429, retryAfterMs: 1_500 });
    const next = scripted([limited, okChat()]);
    const { ctx } = fakeContext(clock);
    const pending = retry(states.get(deployment)).wrap(serving(next, deployment))(chatCall(), ctx);
    await clock.advance(1_499);
    assert.equal(next.calls.length, 1);
    await clock.advance(1);
    await pending;
    assert.deepEqual(
      next.calls.map((c) => c.at),
      [0, 1_500],
    );
  });

  it('caps retry-after: a wait beyond retryAfterMaxMs ends retries here at once, keeping the retry-after', async () => {
    const { clock, states, deployment } = setup({ maxAttempts: 3, ...noJitter, retryAfterMaxMs: 2_000 });
    const limited = new GatewayError('rate_limited', '429', { upstreamStatus: 429, retryAfterMs: 20_000 });
    const next = scripted([limited, okChat()]);
    const { ctx } = fakeContext(clock);
    await assert.rejects(
      retry(states.get(deployment)).wrap(serving(next, deployment))(chatCall(), ctx),
      (err: GatewayError) => {
        assert.equal(err.code, 'rate_limited');
        assert.equal(err.retryAfterMs, 20_000);
        return true;
      },
    );
    assert.equal(next.calls.length, 1);
    assert.equal(clock.now(), 0, 'no time spent waiting');
  });

  it('budget exhaustion: once retries reach the share of recent traffic, failures go straight out', async () => {
    const { clock, states, deployment } = setup({
      maxAttempts: 3,
      initialDelayMs: 0,
      maxDelayMs: 0,
      jitter: 'none',
      budget: { ratio: 0.2, windowMs: 60_000, minRetries: 0 },
    });
    const next = scripted([upstream500()]);
    const handler = retry(states.get(deployment)).wrap(serving(next, deployment));
    const requests = 50;
    for (let i = 0; i < requests; i++) {
      const { ctx } = fakeContext(clock);
      await assert.rejects(handler(chatCall(), ctx));
    }
    const retries = next.calls.length - requests;
    assert.ok(retries <= 0.2 * requests, `${retries} retries for ${requests} requests`);
    assert.ok(retries >= 9, `but the budget was used: ${retries}`);
    assert.ok(states.get(deployment).budget.refused > 0);
  });

  it('does not retry once the client is gone, and stops a backoff when it leaves', async () => {
    const { clock, states, deployment } = setup({ maxAttempts: 3, ...noJitter });
    const next = scripted([upstream500(), okChat()]);
    const { ctx, abort } = fakeContext(clock);
    const pending = retry(states.get(deployment)).wrap(serving(next, deployment))(chatCall(), ctx);
    pending.catch(() => undefined);
    await clock.advance(50);
    abort(new GatewayError('client_closed', 'client disconnected'));
    await assert.rejects(pending, { code: 'client_closed' });
    assert.equal(next.calls.length, 1);
  });
});
