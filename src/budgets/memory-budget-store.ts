import { counterExpiry, counterId } from './windows.js';
import type { BudgetCharge, BudgetStanding, BudgetStore, ReserveOutcome, ReserveRequest } from './types.js';

interface Counter {
  spent: number;
  reserved: number;
  /** Reservation id → its amount and expiry (epoch ms). */
  holds: Map<string, { amount: number; expiresAt: number }>;
  /** Epoch ms after which the counter is forgotten (0 = never). */
  expiresAt: number;
}

/**
 * How long a settled id is remembered, so a repeated settle (or reserve) of it is a no-op. The
 * gateway settles each call once; this is a guard, kept short because the ids of all calls of
 * the last few minutes are held (in Redis: one small key each).
 */
export const SETTLED_TTL_MS = 5 * 60_000;

/**
 * The in-process store remembers settled ids for less: nothing else settles its reservations
 * (the crash spool journals only shared stores' holds), and every call's id is made by the
 * gateway, so the guard only needs to outlive one call's own settle. At 3,000 calls/s five
 * minutes of ids were ~900,000 entries, some 90 MB of the heap; ten seconds are ~3 MB.
 */
export const MEMORY_SETTLED_TTL_MS = 10_000;

/**
 * Budget counters in this process's memory: exact and fast, for a single replica. The same
 * semantics as the Redis store (both pass `budget-store-contract.ts`); everything is synchronous
 * inside, so each operation is atomic by construction.
 *
 * @example const store = createMemoryBudgetStore(); await store.reserve({ id, charges, amountMicros, ttlMs });
 */
export function createMemoryBudgetStore(now: () => number = Date.now): BudgetStore {
  const counters = new Map<string, Counter>();
  const reservations = new Map<string, number>(); // id → expiresAt
  // id → expiresAt; insertion order is expiry order (one TTL), so expired ids are at the front.
  const settled = new Map<string, number>();
  let sweptAt = 0;

  /** Forgets expired holds, settled ids, reservations and counters, at most once a second. */
  function sweep(): void {
    const t = now();
    if (t - sweptAt < 1_000) return;
    sweptAt = t;
    for (const [id, at] of settled) {
      if (at > t) break;
      settled.delete(id);
    }
    for (const [id, at] of reservations) if (at <= t) reservations.delete(id);
    for (const [key, counter] of counters) {
      if (counter.expiresAt !== 0 && counter.expiresAt <= t) counters.delete(key);
      else purge(counter, t);
    }
  }

  function purge(counter: Counter, t: number): void {
    for (const [id, hold] of counter.holds) {
      if (hold.expiresAt <= t) {
        counter.reserved -= hold.amount;
        counter.holds.delete(id);
      }
    }
  }

  const standingOf = (charge: BudgetCharge, counter: Counter): BudgetStanding => ({
    budgetId: charge.budget.id,
    windowKey: charge.windowKey,
    spentMicros: counter.spent,
    reservedMicros: counter.reserved,
    limitMicros: charge.budget.limitMicros,
  });

  function hold(
    id: string,
    amount: number,
    charges: readonly BudgetCharge[],
    ttlMs: number,
    mode: 'new' | 'extend',
  ): ReserveOutcome {
    sweep();
    const t = now();
    const found = charges.map((c) => counters.get(counterId(c)));
    const unseeded = charges.filter((_, i) => found[i] === undefined);
    if (unseeded.length > 0) return { ok: false, unseeded };
    const live = found as Counter[];
    if (mode === 'new' && ((reservations.get(id) ?? 0) > t || (settled.get(id) ?? 0) > t)) {
      return { ok: true, standings: charges.map((c, i) => standingOf(c, live[i]!)), over: [] };
    }
    const over: string[] = [];
    let refused = false;
    charges.forEach((charge, i) => {
      const counter = live[i]!;
      if (counter.spent + counter.reserved + amount <= charge.budget.limitMicros) return;
      // Expired holds count only where they would refuse the call: purged then (not on every
      // reserve, which made each call walk every hold in flight), and checked again.
      purge(counter, t);
      if (counter.spent + counter.reserved + amount <= charge.budget.limitMicros) return;
      over.push(charge.budget.id);
      if (charge.budget.action !== 'soft') refused = true;
    });
    if (refused) return { ok: false, standings: charges.map((c, i) => standingOf(c, live[i]!)), over };
    const expiresAt = t + ttlMs;
    for (const counter of live) {
      const previous = counter.holds.get(id)?.amount ?? 0;
      counter.holds.set(id, { amount: previous + amount, expiresAt });
      counter.reserved += amount;
    }
    reservations.set(id, expiresAt);
    return { ok: true, standings: charges.map((c, i) => standingOf(c, live[i]!)), over };
  }

  function drop(id: string, charges: readonly BudgetCharge[]): void {
    for (const charge of charges) {
      const counter = counters.get(counterId(charge));
      const held = counter?.holds.get(id);
      if (counter && held) {
        counter.reserved -= held.amount;
        counter.holds.delete(id);
      }
    }
    reservations.delete(id);
  }

  return {
    kind: 'memory',
    async reserve(request: ReserveRequest) {
      return hold(request.id, request.amountMicros, request.charges, request.ttlMs, 'new');
    },
    async extend(id, extraMicros, charges, ttlMs) {
      return hold(id, extraMicros, charges, ttlMs, 'extend');
    },
    async settle(id, actualMicros, charges) {
      sweep();
      const t = now();
      if ((settled.get(id) ?? 0) <= t) {
        settled.set(id, t + MEMORY_SETTLED_TTL_MS);
        drop(id, charges);
        for (const charge of charges) {
          const counter = counters.get(counterId(charge));
          // A counter the store no longer knows is left unknown: it will be reseeded from the
          // ledger, which has this call's row.
          if (counter) counter.spent += actualMicros;
        }
      }
      return charges.flatMap((charge) => {
        const counter = counters.get(counterId(charge));
        return counter ? [standingOf(charge, counter)] : [];
      });
    },
    async release(id, charges) {
      drop(id, charges);
    },
    async seed(charge, spentMicros) {
      const key = counterId(charge);
      if (!counters.has(key))
        counters.set(key, { spent: spentMicros, reserved: 0, holds: new Map(), expiresAt: counterExpiry(charge) });
    },
    async standing(charge) {
      const counter = counters.get(counterId(charge));
      if (!counter) return null;
      purge(counter, now());
      return standingOf(charge, counter);
    },
    async close() {
      counters.clear();
    },
  };
}
