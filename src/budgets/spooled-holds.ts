import type { HoldStore } from '../ledger/spool/spool-recovery.js';
import type { SpooledCharge } from '../ledger/spool/spool-records.js';
import type { Budget, BudgetCharge, BudgetStore } from './types.js';

/**
 * The budget store as the crash spool's recovery settles a dead process's reservations with it:
 * each spooled charge becomes a `BudgetCharge` again, its budget looked up by id (config or SQL).
 */
export function spooledHolds(store: BudgetStore, budgetOf: (id: string) => Budget | undefined): HoldStore {
  const charges = (spooled: readonly SpooledCharge[]): BudgetCharge[] => spooled.map((c) => toCharge(c, budgetOf));
  return {
    settle: (id, costMicros, spooled) => store.settle(id, costMicros, charges(spooled)),
    release: (id, spooled) => store.release(id, charges(spooled)),
  };
}

/** A spooled charge as the store wants it; a budget deleted since is stood in for by its id alone. */
function toCharge(
  [budgetId, windowKey, start, end]: SpooledCharge,
  budgetOf: (id: string) => Budget | undefined,
): BudgetCharge {
  const budget: Budget = budgetOf(budgetId) ?? {
    id: budgetId,
    scope: { kind: 'global' },
    window: 'total',
    limitMicros: 0,
    action: 'hard',
    downgradeTo: null,
    thresholds: [],
    failOpen: false,
    source: 'sql',
  };
  return { budget, windowKey, windowStart: start, windowEnd: end ?? Infinity };
}
