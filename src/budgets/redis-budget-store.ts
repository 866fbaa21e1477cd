import { SETTLED_TTL_MS } from './memory-budget-store.js';
import type { BudgetCharge, BudgetStanding, BudgetStore, ReserveOutcome } from './types.js';
import { counterExpiry, counterId } from './windows.js';
import { RELEASE, RESERVE, SEED, SETTLE } from './redis-budget-scripts.js';
import type { RedisConnection } from '../storage/redis.js';

interface ScriptReply {
  s?: 'ok' | 'over' | 'unseeded';
  /** spent, reserved per counter (spent −1 = unknown). */
  st?: number[] | Record<string, never>;
  over?: number[] | Record<string, never>;
  u?: number[] | Record<string, never>;
}

/** Lua's cjson encodes an empty table as `{}`: read both as a list. */
const list = (value: number[] | Record<string, never> | undefined): number[] => (Array.isArray(value) ? value : []);

/**
 * Budget counters in Redis, shared by every replica; each operation is one Lua script (see
 * `redis-budget-scripts.ts`). Keys start with `prefix` (`redis.keyPrefix`).
 *
 * limitation: a call's counters must live on one Redis node; with Redis Cluster, keys of
 * different budgets hash to different slots and the scripts are refused. Use one primary
 * (with replicas / Sentinel for failover).
 *
 * @example const store = createRedisBudgetStore(await connectRedis(options), 'tollgate:');
 */
export function createRedisBudgetStore(redis: RedisConnection, prefix: string): BudgetStore {
  const counter = (c: BudgetCharge): string => `${prefix}budget:${counterId(c)}`;
  const counterKeys = (charges: readonly BudgetCharge[]): string[] =>
    charges.flatMap((c) => [counter(c), `${counter(c)}:exp`]);
  const reservation = (id: string): string => `${prefix}resv:${id}`;

  const run = async (script: typeof RESERVE, keys: string[], args: (string | number)[]): Promise<ScriptReply> =>
    JSON.parse(String(await redis.eval(script, keys, args))) as ScriptReply;

  const standings = (charges: readonly BudgetCharge[], st: number[]): BudgetStanding[] =>
    charges.flatMap((charge, i) => {
      const spent = st[2 * i] ?? -1;
      if (spent < 0) return [];
      return [
        {
          budgetId: charge.budget.id,
          windowKey: charge.windowKey,
          spentMicros: spent,
          reservedMicros: st[2 * i + 1] ?? 0,
          limitMicros: charge.budget.limitMicros,
        },
      ];
    });

  async function hold(
    id: string,
    amount: number,
    charges: readonly BudgetCharge[],
    ttlMs: number,
    mode: 'new' | 'extend' | 'peek',
  ): Promise<ReserveOutcome> {
    const args: (string | number)[] = [id, amount, Math.max(1, Math.round(ttlMs)), mode, charges.length];
    for (const c of charges) args.push(c.budget.limitMicros, c.budget.action === 'soft' ? 0 : 1, counterExpiry(c));
    const reply = await run(RESERVE, [reservation(id), ...counterKeys(charges)], args);
    if (reply.s === 'unseeded') return { ok: false, unseeded: list(reply.u).map((i) => charges[i - 1]!) };
    const over = list(reply.over).map((i) => charges[i - 1]!.budget.id);
    const st = standings(charges, list(reply.st));
    return reply.s === 'ok' ? { ok: true, standings: st, over } : { ok: false, standings: st, over };
  }

  return {
    kind: 'redis',
    reserve: (request) => hold(request.id, request.amountMicros, request.charges, request.ttlMs, 'new'),
    extend: (id, extraMicros, charges, ttlMs) => hold(id, extraMicros, charges, ttlMs, 'extend'),
    async settle(id, actualMicros, charges) {
      const reply = await run(
        SETTLE,
        [reservation(id), ...counterKeys(charges)],
        [id, actualMicros, SETTLED_TTL_MS, charges.length],
      );
      return standings(charges, list(reply.st));
    },
    async release(id, charges) {
      await redis.eval(RELEASE, [reservation(id), ...counterKeys(charges)], [id, charges.length]);
    },
    async seed(charge, spentMicros) {
      await redis.eval(SEED, [counter(charge)], [spentMicros, counterExpiry(charge)]);
    },
    async standing(charge) {
      const outcome = await hold('peek', 0, [charge], 1, 'peek');
      return 'standings' in outcome ? (outcome.standings[0] ?? null) : null;
    },
    close: () => redis.close(),
  };
}
