import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { seeded, testStates } from '../../test/kits/resilience-test-kit.js';
import type { DeploymentRuntime } from '../resilience/deployment-state.js';
import { LATENCY_EXPLORE, orderDeployments } from './balance.js';

function runtimes(deployments: Record<string, unknown>[]): DeploymentRuntime[] {
  const { states, deployments: list } = testStates(
    { chat: { deployments: deployments.map((d) => ({ provider: 'mock', model: 'm', ...d })) } },
    new FakeClock(),
  );
  return list('chat').map((d) => states.get(d));
}

/** How often each deployment comes first over `n` orderings. */
function firstShares(items: DeploymentRuntime[], strategy: Parameters<typeof orderDeployments>[1], n = 20_000) {
  const random = seeded(7);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const first = orderDeployments(items, strategy, random)[0]!.deployment.id;
    counts.set(first, (counts.get(first) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].map(([id, c]) => [id, c / n]));
}

describe('orderDeployments', () => {
  it('without priorities the list is a fallback chain', () => {
    const items = runtimes([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    for (const strategy of ['priority', 'weighted', 'least-inflight', 'latency'] as const) {
      assert.deepEqual(
        orderDeployments(items, strategy, seeded(1)).map((r) => r.deployment.id),
        ['a', 'b', 'c'],
        strategy,
      );
    }
  });

  it('weighted: equal-priority deployments come first in proportion to their weight; lower priority stays last', () => {
    const items = runtimes([
      { id: 'a', priority: 0, weight: 3 },
      { id: 'b', priority: 0, weight: 1 },
      { id: 'z', priority: 1, weight: 100 },
    ]);
    const shares = firstShares(items, 'weighted');
    assert.ok(Math.abs(shares.a! - 0.75) < 0.015, `a first ${shares.a}`);
    assert.ok(Math.abs(shares.b! - 0.25) < 0.015, `b first ${shares.b}`);
    assert.equal(shares.z, undefined);
    for (let i = 0; i < 100; i++)
      assert.equal(orderDeployments(items, 'weighted', seeded(i)).at(-1)!.deployment.id, 'z');
  });

  it('weighted with equal weights spreads evenly over three', () => {
    const shares = firstShares(
      runtimes([
        { id: 'a', priority: 0 },
        { id: 'b', priority: 0 },
        { id: 'c', priority: 0 },
      ]),
      'weighted',
    );
    for (const id of ['a', 'b', 'c']) assert.ok(Math.abs(shares[id]! - 1 / 3) < 0.015, `${id} ${shares[id]}`);
  });

  it('least-inflight: the least loaded first, ties shared at random', () => {
    const items = runtimes([
      { id: 'a', priority: 0 },
      { id: 'b', priority: 0 },
      { id: 'c', priority: 0 },
    ]);
    items[0]!.inFlight = 5;
    items[1]!.inFlight = 2;
    items[2]!.inFlight = 9;
    assert.deepEqual(
      orderDeployments(items, 'least-inflight', seeded(3)).map((r) => r.deployment.id),
      ['b', 'a', 'c'],
    );
    items[0]!.inFlight = 2;
    const shares = firstShares(items, 'least-inflight');
    assert.ok(Math.abs(shares.a! - 0.5) < 0.02 && Math.abs(shares.b! - 0.5) < 0.02, JSON.stringify(shares));
  });

  it('latency: the lowest EWMA first, bar the exploration share; unmeasured deployments are tried first', () => {
    const items = runtimes([
      { id: 'slow', priority: 0 },
      { id: 'fast', priority: 0 },
      { id: 'new', priority: 0 },
    ]);
    items[0]!.recordLatency(900);
    items[1]!.recordLatency(120);
    assert.equal(orderDeployments(items, 'latency', () => 0.5)[0]!.deployment.id, 'new');
    items[2]!.recordLatency(400);
    const shares = firstShares(items, 'latency');
    const explored = LATENCY_EXPLORE * (2 / 3); // exploration picks another deployment 2 times in 3
    assert.ok(Math.abs(shares.fast! - (1 - explored)) < 0.01, `fast ${shares.fast}`);
    assert.ok(shares.slow! > 0.01 && shares.new! > 0.01, 'the others still get measured');
  });

  it('the EWMA follows recent latency', () => {
    const [item] = runtimes([{ id: 'a' }]);
    item!.recordLatency(100);
    for (let i = 0; i < 20; i++) item!.recordLatency(500);
    assert.ok(Math.abs(item!.latencyEwmaMs! - 500) < 1);
  });
});
