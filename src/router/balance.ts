import type { Strategy } from '../resilience/schema.js';
import type { DeploymentRuntime } from '../resilience/deployment-state.js';

/** Share of `latency` picks that ignore the EWMA, so a deployment that was slow once gets measured again. */
export const LATENCY_EXPLORE = 0.05;

/**
 * The order in which the router tries an alias's deployments: by `priority` (lower first), and
 * within one priority by the alias's strategy —
 * - `priority`: list order;
 * - `weighted`: a random order where each deployment comes first with probability weight / Σ weights
 *   (Efraimidis–Spirakis keys, so the rest of the order is weighted too);
 * - `least-inflight`: fewest attempts in progress first, ties broken at random;
 * - `latency`: lowest latency EWMA first (unmeasured ones first of all), except for a random
 *   order in `LATENCY_EXPLORE` of picks.
 * Circuit state is not considered here: the router skips open deployments as it walks the order.
 *
 * @example orderDeployments([a, b], 'weighted', Math.random) // → [a, b] three times in four when a.weight = 3, b.weight = 1
 */
export function orderDeployments(
  runtimes: readonly DeploymentRuntime[],
  strategy: Strategy,
  random: () => number,
): DeploymentRuntime[] {
  if (runtimes.length <= 1) return [...runtimes];
  const groups = new Map<number, DeploymentRuntime[]>();
  for (const runtime of runtimes) {
    const group = groups.get(runtime.settings.priority);
    if (group) group.push(runtime);
    else groups.set(runtime.settings.priority, [runtime]);
  }
  const ordered: DeploymentRuntime[] = [];
  for (const priority of [...groups.keys()].sort((x, y) => x - y)) {
    const group = groups.get(priority)!;
    ordered.push(...(group.length === 1 ? group : orderGroup(group, strategy, random)));
  }
  return ordered;
}

function orderGroup(group: DeploymentRuntime[], strategy: Strategy, random: () => number): DeploymentRuntime[] {
  switch (strategy) {
    case 'priority':
      return group;
    case 'weighted':
      return sortBy(group, (r) => -(random() ** (1 / r.settings.weight)));
    case 'least-inflight':
      return sortBy(group, (r) => r.inFlight + random() * 0.5);
    case 'latency':
      if (random() < LATENCY_EXPLORE) return sortBy(group, () => random());
      return sortBy(group, (r) => (r.latencyEwmaMs ?? -1) + random() * 1e-3);
  }
}

function sortBy<T>(items: readonly T[], key: (item: T) => number): T[] {
  return items
    .map((item) => ({ item, key: key(item) }))
    .sort((x, y) => x.key - y.key)
    .map((entry) => entry.item);
}
