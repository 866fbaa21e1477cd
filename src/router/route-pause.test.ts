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
  fakeContext,
  okChat,
  seeded,
  testStates,
  type Step,
} from '../../test/kits/resilience-test-kit.js';
import { routeToDeployment } from './route.js';

/** The router honours an upstream's retry-after across requests (issue 7 item 7), on a FakeClock. */
function setup(scripts: Record<string, Step[]>, alias: Record<string, unknown> = {}, extra: Partial<ConfigInput> = {}) {
  const clock = new FakeClock();
  const { states, registry } = testStates(
    {
      chat: {
        retry: { maxAttempts: 2, initialDelayMs: 0, maxDelayMs: 0, jitter: 'none' },
        deployments: [
          { id: 'primary', provider: 'mock', model: 'a' },
          { id: 'backup', provider: 'other', model: 'b' },
        ],
        ...alias,
      },
    },
    clock,
    extra,
  );
  const upstream = byDeployment(scripts);
  chainAll(states, upstream);
  const handle = routeToDeployment(registry, { states, random: seeded(1) });
  const status = () => states.status(registry.resolve('chat', 'chat'));
  const run = async (): Promise<{
    answer: GatewayResult;
    attempts: string | undefined;
    deployment: string | undefined;
  }> => {
    const { ctx } = fakeContext(clock);
    const answer = await handle(chatCall(), ctx);
    return {
      answer,
      attempts: ctx.responseHeaders['x-tollgate-attempts'],
      deployment: ctx.responseHeaders['x-tollgate-deployment'],
    };
  };
  const callsTo = (id: string) => upstream.calls.filter((c) => c.deployment === id).length;
  return { clock, run, status, callsTo, handle };
}

const e429 = (ms: number) => new GatewayError('rate_limited', 'slow down', { upstreamStatus: 429, retryAfterMs: ms });

describe('remembered upstream pauses (retry-after)', () => {
  it('429 retry-after 5 s: one call to the primary in the window, every other request served by the backup; then the primary again', async () => {
    const { clock, run, callsTo, status } = setup({
      primary: [e429(5_000), okChat('primary')],
      backup: [okChat('backup')],
    });
    for (let i = 0; i < 10; i++) {
      const { deployment, attempts } = await run();
      assert.equal(deployment, 'backup', `request ${i}`);
      assert.equal(attempts, i === 0 ? '2' : '1', 'skipped without an attempt after the first');
      await clock.advance(400); // ten requests over 4 s, all inside the 5 s window
    }
    assert.equal(callsTo('primary'), 1, 'only the call that got the 429');
    assert.equal(callsTo('backup'), 10);
    const paused = status().find((d) => d.id === 'primary')!;
    assert.deepEqual(
      { remainingMs: paused.pause?.remainingMs, status: paused.pause?.status, askedMs: paused.pause?.askedMs },
      { remainingMs: 1_000, status: 429, askedMs: 5_000 },
    );
    assert.equal(paused.pause?.until, new Date(clock.wallNow() + 1_000).toISOString());
    assert.equal(paused.breaker.state, 'closed', 'a pause is not a breaker failure');
    await clock.advance(1_000);
    assert.equal(status().find((d) => d.id === 'primary')!.pause, null);
    const after = await run();
    assert.equal(after.deployment, 'primary', 'tried again once the pause is over');
    assert.equal(callsTo('primary'), 2);
  });

  it('the pause is capped by resilience.maxPauseMs; a shorter later answer does not shorten it', async () => {
    const { clock, run, callsTo, status } = setup(
      { primary: [e429(3_600_000), okChat('primary')], backup: [okChat('backup')] },
      {},
      { resilience: { maxPauseMs: 20_000 } },
    );
    await run();
    const pause = status().find((d) => d.id === 'primary')!.pause;
    assert.deepEqual([pause?.remainingMs, pause?.askedMs], [20_000, 3_600_000]);
    await clock.advance(19_999);
    assert.equal((await run()).deployment, 'backup');
    await clock.advance(1);
    assert.equal((await run()).deployment, 'primary', 'after the cap, not after an hour');
    assert.equal(callsTo('primary'), 2);
  });

  it('503 and 529 with retry-after pause too; a 500, or a 429 without retry-after, does not', async () => {
    const e = (status: number, retryAfterMs?: number) =>
      new GatewayError(status === 429 ? 'rate_limited' : 'upstream_error', 'x', {
        upstreamStatus: status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    for (const [error, pauses] of [
      [e(503, 4_000), true],
      [e(529, 4_000), true],
      [e(500, 4_000), false],
      [e(429), false],
    ] as const) {
      const { run, callsTo } = setup({ primary: [error, okChat()], backup: [okChat()] }, { retry: { maxAttempts: 1 } });
      await run();
      await run();
      assert.equal(callsTo('primary'), pauses ? 1 : 2, `${error.upstreamStatus} ${error.retryAfterMs}`);
    }
  });

  it('everything paused: 503 no_deployment_available without an attempt, retry-after = the soonest end', async () => {
    const { clock, run, callsTo } = setup({ primary: [e429(5_000)], backup: [e429(8_000)] });
    await assert.rejects(run(), { code: 'no_deployment_available' });
    await clock.advance(1_000);
    await assert.rejects(run(), (err: GatewayError) => {
      assert.equal(err.code, 'no_deployment_available');
      assert.equal(err.retryAfterMs, 4_000);
      assert.match(
        err.message,
        /primary: skipped, paused at the upstream's request \(429 with retry-after\), back in 4 s/,
      );
      return true;
    });
    assert.deepEqual([callsTo('primary'), callsTo('backup')], [1, 1]);
  });

  it('everything paused with a degraded message: the degraded answer', async () => {
    const { run } = setup({ primary: [e429(5_000)], backup: [e429(5_000)] }, { degraded: { message: 'Busy.' } });
    await run();
    const { answer, attempts } = await run();
    assert.equal(answer.kind === 'chat' && answer.response.choices[0]?.message.content, 'Busy.');
    assert.equal(attempts, '0');
  });

  it('resilience.maxPauseMs: 0 remembers nothing', async () => {
    const { run, callsTo } = setup(
      { primary: [e429(5_000)], backup: [okChat()] },
      {},
      { resilience: { maxPauseMs: 0 } },
    );
    await run();
    await run();
    assert.equal(callsTo('primary'), 2);
  });
});
