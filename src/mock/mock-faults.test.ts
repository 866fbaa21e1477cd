import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mockScenarioSchema, type MockScenarioInput } from './schema.js';
import { createFaultPlanner, MOCK_HEADERS, MockHeaderError } from './mock-faults.js';

const planner = (scenario: MockScenarioInput = {}, seed = 42) =>
  createFaultPlanner(seed, mockScenarioSchema.parse(scenario));

describe('mock faults: planning', () => {
  it('takes timing from the scenario, and a header wins over its field', () => {
    const p = planner({ latencyMs: 100, ttftMs: 20, chunkDelayMs: 5, completionTokens: 10 });
    assert.deepEqual(
      { ...p.plan({}, true), seed: 0 },
      {
        seed: 0,
        latencyMs: 100,
        ttftMs: 20,
        chunkDelayMs: 5,
        completionTokens: 10,
        ignoreOutputLimit: false,
        fault: null,
      },
    );
    const plan = p.plan(
      {
        'x-mock-latency-ms': '7',
        'x-mock-ttft-ms': '0',
        'x-mock-chunk-delay-ms': '1',
        'x-mock-ignore-output-limit': '1',
      },
      true,
    );
    assert.deepEqual([plan.latencyMs, plan.ttftMs, plan.chunkDelayMs, plan.ignoreOutputLimit], [7, 0, 1, true]);
  });

  it('adds jitter uniformly within [0, jitterMs]', () => {
    const p = planner({ latencyMs: 100, jitterMs: 50 });
    const latencies = Array.from({ length: 1000 }, () => p.plan({}, false).latencyMs);
    assert.ok(latencies.every((ms) => ms >= 100 && ms <= 150));
    assert.equal(Math.min(...latencies), 100);
    assert.equal(Math.max(...latencies), 150);
  });

  it('reads each fault header, with hang > reset > error > malformed > cut > stall > error event', () => {
    const p = planner();
    assert.deepEqual(p.plan({ 'x-mock-hang': '1', 'x-mock-reset': 'true' }, false).fault, { kind: 'hang' });
    assert.deepEqual(p.plan({ 'x-mock-reset': 'yes', 'x-mock-error-rate': '1' }, false).fault, { kind: 'reset' });
    assert.deepEqual(p.plan({ 'x-mock-error-status': '503' }, false).fault, {
      kind: 'error',
      status: 503,
      retryAfterS: undefined,
    });
    assert.deepEqual(p.plan({ 'x-mock-error-rate': '1', 'x-mock-error-status': '429' }, false).fault, {
      kind: 'error',
      status: 429,
      retryAfterS: 1,
    });
    assert.deepEqual(p.plan({ 'x-mock-error-rate': '1' }, false).fault, {
      kind: 'error',
      status: 500,
      retryAfterS: undefined,
    });
    assert.deepEqual(p.plan({ 'x-mock-malformed': 'json' }, false).fault, { kind: 'malformed' });
    assert.deepEqual(p.plan({ 'x-mock-cut-after': '3', 'x-mock-stall-after': '1' }, true).fault, {
      kind: 'cut',
      after: 3,
    });
    assert.deepEqual(p.plan({ 'x-mock-stall-after': '2' }, true).fault, { kind: 'stall', after: 2 });
    assert.deepEqual(p.plan({ 'x-mock-error-event-after': '4', 'x-mock-error-status': '529' }, true).fault, {
      kind: 'error_event',
      after: 4,
      status: 529,
    });
  });

  it('ignores stream-only faults on non-stream requests', () => {
    const p = planner();
    for (const header of ['x-mock-cut-after', 'x-mock-stall-after', 'x-mock-error-event-after']) {
      assert.equal(p.plan({ [header]: '2' }, false).fault, null, header);
    }
  });

  it('refuses malformed headers with the header as param', () => {
    const p = planner();
    for (const [name, value] of [
      ['x-mock-latency-ms', '-1'],
      ['x-mock-error-rate', '1.5'],
      ['x-mock-error-status', '200'],
      ['x-mock-hang', 'maybe'],
      ['x-mock-malformed', 'xml'],
      ['x-mock-cut-after', 'two'],
    ] as const) {
      assert.throws(
        () => p.plan({ [name]: value }, true),
        (err: unknown) => err instanceof MockHeaderError && err.param === name,
      );
    }
  });
});

describe('mock faults: seeded draws', () => {
  const scenario: MockScenarioInput = {
    errors: [
      { status: 500, rate: 0.3 },
      { status: 429, rate: 0.1, retryAfterS: 2 },
    ],
    faults: [{ kind: 'reset', rate: 0.05 }],
  };
  const tally = (p: ReturnType<typeof planner>, n: number): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const fault = p.plan({}, false).fault;
      const key = fault === null ? 'ok' : fault.kind === 'error' ? String(fault.status) : fault.kind;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };

  it('hits each configured rate within tolerance over 1,000 requests', () => {
    const counts = tally(planner(scenario), 1000);
    // 3 standard deviations of a binomial(1000, p): about ±43 at 0.3, ±28 at 0.1, ±21 at 0.05.
    assert.ok(Math.abs((counts['500'] ?? 0) - 300) < 45, JSON.stringify(counts));
    assert.ok(Math.abs((counts['429'] ?? 0) - 100) < 30, JSON.stringify(counts));
    assert.ok(Math.abs((counts.reset ?? 0) - 50) < 22, JSON.stringify(counts));
  });

  it('replays the same sequence for the same seed, and another for another seed', () => {
    const sequence = (seed: number): string[] => {
      const p = planner(scenario, seed);
      return Array.from({ length: 50 }, () => JSON.stringify(p.plan({}, false).fault));
    };
    assert.deepEqual(sequence(42), sequence(42));
    assert.notDeepEqual(sequence(42), sequence(43));
  });

  it('replays one request from its x-mock-seed', () => {
    const p = planner({ ...scenario, jitterMs: 1000 });
    const plans = Array.from({ length: 20 }, () => p.plan({}, false));
    for (const plan of plans)
      assert.deepEqual(
        planner({ ...scenario, jitterMs: 1000 }).plan({ 'x-mock-seed': String(plan.seed) }, false),
        plan,
      );
  });

  it('lets any fault header switch the scenario draws off for that request', () => {
    const p = planner({ errors: [{ status: 500, rate: 1 }] });
    assert.equal(p.plan({}, false).fault?.kind, 'error');
    assert.equal(p.plan({ 'x-mock-error-rate': '0' }, false).fault, null);
  });

  it('rejects a scenario whose rates add up to more than 1', () => {
    assert.throws(() =>
      mockScenarioSchema.parse({ errors: [{ status: 500, rate: 0.7 }], faults: [{ kind: 'hang', rate: 0.4 }] }),
    );
  });
});

describe('docs/mock.md', () => {
  it('documents every x-mock-* header, and no other', () => {
    const doc = readFileSync(new URL('../../docs/mock.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(x-mock-[a-z-]+)` +\|/gm)].map((m) => m[1]);
    assert.deepEqual([...documented].sort(), [...MOCK_HEADERS].sort());
  });
});
