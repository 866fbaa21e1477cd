// Per-request overhead of budget enforcement: reserve + settle on three budgets (tenant, feature,
// key), memory and Redis stores. Not a test: run it and read the numbers.
//   node --import tsx bench/micro/budget-store.bench.ts [calls=5000]
// Redis: TOLLGATE_BENCH_REDIS_URL (default redis://127.0.0.1:6379), under a throwaway prefix that
// is deleted afterwards; skipped with a note when unreachable.
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { connectRedis } from '../../src/storage/redis.js';
import { createRedisBudgetStore } from '../../src/budgets/redis-budget-store.js';
import { BudgetRegistry } from '../../src/budgets/budget-registry.js';
import { BudgetService } from '../../src/budgets/budget-service.js';
import { createMemoryBudgetStore } from '../../src/budgets/memory-budget-store.js';
import type { BudgetInput, BudgetStore } from '../../src/budgets/types.js';

const calls = Number(process.argv[2] ?? 5_000);
const log = pino({ level: 'silent' });
const budgets: BudgetInput[] = [
  { scope: { kind: 'tenant', tenant: 'acme' }, window: 'monthly', limitMicros: 1e15 },
  { scope: { kind: 'feature', tenant: 'acme', feature: 'search' }, window: 'daily', limitMicros: 1e15 },
  { scope: { kind: 'key', keyId: 'k_1' }, window: 'total', limitMicros: 1e15 },
];

async function bench(name: string, store: BudgetStore): Promise<void> {
  const registry = await BudgetRegistry.start({ configured: budgets, repository: null, refreshIntervalMs: 1_000, log });
  const service = new BudgetService({
    store,
    registry,
    ledgerSpend: async () => 0,
    alerts: null,
    reservationTtlMs: 60_000,
    clock: systemClock,
    log,
  });
  const subject = { tenant: 'acme', keyId: 'k_1', feature: 'search' };
  const one = async (i: number): Promise<number> => {
    const start = performance.now();
    const charges = service.charges(service.applicable(subject));
    const admission = await service.reserve(`bench-${i}`, charges, 1_000);
    if (!admission.admitted || !admission.reservation) throw new Error('refused');
    await service.settle(admission.reservation, 700);
    return (performance.now() - start) * 1000;
  };
  for (let i = 0; i < 200; i++) await one(-i - 1); // warm-up (and seeding)
  const sequential: number[] = [];
  for (let i = 0; i < calls; i++) sequential.push(await one(i));
  const started = performance.now();
  const concurrency = 50;
  let next = calls;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls * 2) await one(next++);
    }),
  );
  const perSecond = (calls / (performance.now() - started)) * 1000;
  sequential.sort((a, b) => a - b);
  const at = (p: number): string => sequential[Math.floor((p / 100) * (sequential.length - 1))]!.toFixed(0);
  console.log(
    `${name.padEnd(8)} reserve+settle, 3 budgets: p50 ${at(50)} µs, p99 ${at(99)} µs (sequential); ${perSecond.toFixed(0)} calls/s at concurrency ${concurrency}`,
  );
  registry.close();
  await store.close();
}

await bench('memory', createMemoryBudgetStore());
const url = process.env.TOLLGATE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
try {
  const redis = await connectRedis({ url, commandTimeoutMs: 2_000, log });
  const prefix = `tg_bench:${randomBytes(4).toString('hex')}:`;
  try {
    await bench('redis', createRedisBudgetStore(redis, prefix));
  } finally {
    const cleanup = await connectRedis({ url, commandTimeoutMs: 2_000, log });
    let cursor = '0';
    do {
      const [next, keys] = (await cleanup.command(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [
        string,
        string[],
      ];
      if (keys.length > 0) await cleanup.command(['DEL', ...keys]);
      cursor = next;
    } while (cursor !== '0');
    await cleanup.close();
  }
} catch (err) {
  console.log(`redis    skipped: ${err instanceof Error ? err.message : String(err)}`);
}
