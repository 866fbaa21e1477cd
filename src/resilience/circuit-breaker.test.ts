import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { CircuitBreaker, type BreakerOptions, type BreakerTransition } from './circuit-breaker.js';

const options: BreakerOptions = {
  consecutiveFailures: 3,
  failureRatio: 0,
  minimumCalls: 10,
  windowMs: 10_000,
  openMs: 1_000,
  maxOpenMs: 3_000,
  halfOpenProbes: 2,
};

function setup(overrides: Partial<BreakerOptions> = {}) {
  const clock = new FakeClock();
  const transitions: BreakerTransition[] = [];
  const breaker = new CircuitBreaker(clock, { ...options, ...overrides }, (t) => transitions.push(t));
  const fail = (): void => breaker.acquire()!.failure('upstream_error');
  const succeed = (): void => breaker.acquire()!.success();
  return { clock, breaker, transitions, fail, succeed, path: () => transitions.map((t) => t.to) };
}

describe('CircuitBreaker', () => {
  it('opens after the configured consecutive failures; a success in between resets the count', () => {
    const { breaker, fail, succeed, transitions } = setup();
    fail();
    fail();
    succeed();
    fail();
    fail();
    assert.equal(breaker.state, 'closed');
    fail();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.acquire(), null, 'open: no call admitted');
    assert.match(transitions[0]!.reason, /3 consecutive failures, last: upstream_error/);
    assert.equal(transitions[0]!.openForMs, 1_000);
  });

  it('opens on the failure ratio over the window, only after minimumCalls', () => {
    const { breaker, fail, succeed } = setup({ consecutiveFailures: 0, failureRatio: 0.5, minimumCalls: 10 });
    for (let i = 0; i < 4; i++) {
      fail();
      succeed();
    }
    fail(); // 5 failures of 9 calls: not enough calls yet
    assert.equal(breaker.state, 'closed');
    fail(); // 6 of 10
    assert.equal(breaker.state, 'open');
  });

  it('the ratio forgets calls older than the window', async () => {
    const { breaker, fail, succeed, clock } = setup({ consecutiveFailures: 0, failureRatio: 0.5, minimumCalls: 4 });
    fail();
    fail();
    fail();
    succeed();
    succeed();
    succeed();
    await clock.advance(10_000);
    for (let i = 0; i < 3; i++) succeed();
    fail(); // 1 of 4 in the window
    assert.equal(breaker.state, 'closed');
  });

  it('open → half-open after openMs → bounded probes → closed after that many successes', async () => {
    const { breaker, fail, clock, path } = setup();
    for (let i = 0; i < 3; i++) fail();
    await clock.advance(999);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.retryInMs(), 1);
    await clock.advance(1);
    assert.equal(breaker.state, 'half_open');
    const probe1 = breaker.acquire();
    const probe2 = breaker.acquire();
    assert.ok(probe1 && probe2);
    assert.equal(breaker.acquire(), null, 'a third call is rejected while two probes are out');
    assert.equal(breaker.canAttempt(), false);
    probe1.success();
    assert.equal(breaker.state, 'half_open', 'one success of two is not enough');
    assert.equal(breaker.acquire(), null, 'the succeeded probe does not free a slot');
    probe2.success();
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(path(), ['open', 'half_open', 'closed']);
    assert.ok(breaker.acquire(), 'closed again: calls admitted');
  });

  it('a failed probe reopens the circuit for twice as long, capped at maxOpenMs', async () => {
    const { breaker, fail, clock, path, transitions } = setup();
    for (let i = 0; i < 3; i++) fail();
    for (const expected of [2_000, 3_000, 3_000]) {
      await clock.advance(transitions.at(-1)!.openForMs!);
      assert.equal(breaker.state, 'half_open');
      breaker.acquire()!.failure('upstream_timeout');
      assert.equal(breaker.state, 'open');
      assert.equal(transitions.at(-1)!.openForMs, expected);
      assert.match(transitions.at(-1)!.reason, /probe failed: upstream_timeout/);
    }
    // Recovery resets the doubling.
    await clock.advance(3_000);
    breaker.acquire()!.success();
    breaker.acquire()!.success();
    assert.equal(breaker.state, 'closed');
    for (let i = 0; i < 3; i++) fail();
    assert.equal(transitions.at(-1)!.openForMs, 1_000);
    assert.deepEqual(path().slice(0, 3), ['open', 'half_open', 'open']);
  });

  it('a released probe (client gone, 4xx) frees its slot without deciding anything', async () => {
    const { breaker, fail, clock } = setup({ halfOpenProbes: 1 });
    for (let i = 0; i < 3; i++) fail();
    await clock.advance(1_000);
    const probe = breaker.acquire()!;
    assert.equal(breaker.acquire(), null);
    probe.release();
    assert.equal(breaker.state, 'half_open');
    breaker.acquire()!.success();
    assert.equal(breaker.state, 'closed');
  });

  it('ignores outcomes of calls admitted before the last transition, and reports once per permit', () => {
    const { breaker, fail } = setup();
    const slow = breaker.acquire()!;
    for (let i = 0; i < 3; i++) fail();
    assert.equal(breaker.state, 'open');
    slow.success(); // started while closed: says nothing about now
    assert.equal(breaker.state, 'open');
    const twice = setup();
    const permit = twice.breaker.acquire()!;
    permit.failure('x');
    permit.failure('x');
    permit.failure('x');
    assert.equal(twice.breaker.snapshot().consecutiveFailures, 1);
  });

  it('snapshot says the state, time to the next probe and the window', async () => {
    const { breaker, fail, succeed, clock } = setup();
    succeed();
    fail();
    assert.deepEqual(breaker.snapshot(), {
      state: 'closed',
      since: 0,
      retryInMs: null,
      consecutiveFailures: 1,
      window: { calls: 2, failures: 1 },
      opened: 0,
    });
    fail();
    fail();
    await clock.advance(400);
    assert.equal(breaker.snapshot().state, 'open');
    assert.equal(breaker.snapshot().retryInMs, 600);
    assert.equal(breaker.snapshot().opened, 1);
  });
});
