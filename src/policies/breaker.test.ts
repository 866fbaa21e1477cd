import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { GatewayError } from '../core/errors.js';
import {
  chatCall,
  chunk,
  drain,
  fakeContext,
  okChat,
  scripted,
  serving,
  streamCall,
  streamOf,
  testStates,
} from '../../test/kits/resilience-test-kit.js';
import { breaker, CircuitOpenError } from './breaker.js';

function setup() {
  const clock = new FakeClock();
  const { states, deployments } = testStates(
    {
      chat: {
        breaker: { consecutiveFailures: 2, openMs: 1_000, halfOpenProbes: 1 },
        deployments: [{ id: 'primary', provider: 'mock', model: 'm' }],
      },
    },
    clock,
  );
  const deployment = deployments('chat')[0]!;
  return { clock, states, deployment, circuit: states.get(deployment).breaker };
}

const failing = () => new GatewayError('upstream_error', 'boom', { upstreamStatus: 500 });

describe('breaker policy', () => {
  it('counts failures, then rejects with CircuitOpenError while open (no upstream call)', async () => {
    const { clock, states, deployment, circuit } = setup();
    const next = scripted([failing()]);
    const handler = breaker(states.get(deployment)).wrap(serving(next, deployment));
    for (let i = 0; i < 2; i++) await assert.rejects(handler(chatCall(), fakeContext(clock).ctx));
    assert.equal(circuit.state, 'open');
    await assert.rejects(handler(chatCall(), fakeContext(clock).ctx), (err: unknown) => {
      assert.ok(err instanceof CircuitOpenError);
      assert.equal(err.code, 'upstream_unavailable');
      assert.equal(err.retryAfterMs, 1_000);
      return true;
    });
    assert.equal(next.calls.length, 2);
  });

  it('a stream that breaks after its first chunk counts as a failure when it ends', async () => {
    const { clock, states, deployment, circuit } = setup();
    const cut = new GatewayError('upstream_error', 'other side closed');
    const handler = breaker(states.get(deployment)).wrap(
      serving(scripted([streamOf([chunk({ content: 'a' })], { failWith: cut })]), deployment),
    );
    for (let i = 0; i < 2; i++) {
      const result = await handler(streamCall(), fakeContext(clock).ctx);
      assert.equal(circuit.state, 'closed', 'not yet: the stream has not ended');
      await assert.rejects(drain(result));
    }
    assert.equal(circuit.state, 'open');
  });

  it('does not count client errors, rate limits or a client leaving', async () => {
    const { clock, states, deployment, circuit } = setup();
    const errors = [
      new GatewayError('upstream_bad_request', 'bad', { status: 400 }),
      new GatewayError('context_length_exceeded', 'too long'),
      new GatewayError('content_filtered', 'no'),
      new GatewayError('rate_limited', 'slow down', { retryAfterMs: 1_000 }),
      new GatewayError('client_closed', 'gone'),
    ];
    const handler = breaker(states.get(deployment)).wrap(serving(scripted(errors), deployment));
    for (let i = 0; i < errors.length; i++) await assert.rejects(handler(chatCall(), fakeContext(clock).ctx));
    // A stream its consumer abandons midway.
    const streaming = breaker(states.get(deployment)).wrap(
      serving(scripted([streamOf([chunk({ content: 'a' }), chunk({ content: 'b' })])]), deployment),
    );
    const result = await streaming(streamCall(), fakeContext(clock).ctx);
    if (result.kind === 'stream') await result.batches[Symbol.asyncIterator]().return?.();
    assert.equal(circuit.state, 'closed');
    assert.equal(circuit.snapshot().consecutiveFailures, 0);
  });

  it('half-open: the probe succeeds and closes the circuit', async () => {
    const { clock, states, deployment, circuit } = setup();
    const next = scripted([failing(), failing(), okChat()]);
    const handler = breaker(states.get(deployment)).wrap(serving(next, deployment));
    for (let i = 0; i < 2; i++) await assert.rejects(handler(chatCall(), fakeContext(clock).ctx));
    await clock.advance(1_000);
    assert.equal(circuit.state, 'half_open');
    await handler(chatCall(), fakeContext(clock).ctx);
    assert.equal(circuit.state, 'closed');
  });
});
