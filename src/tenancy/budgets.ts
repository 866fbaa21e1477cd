import {
  formatMicros,
  parseBudgetSpec,
  type Budget,
  type BudgetRepository,
  type BudgetScope,
  type BudgetWindow,
} from '../budgets/index.js';
import { GatewayError } from '../core/errors.js';

export interface BudgetSpec {
  limitMicros: number;
  window: BudgetWindow;
}

/**
 * Parses budget notation (`50/month`, `2.5/day`, `100/total`) before anything is created, so a
 * typo refuses the whole command instead of leaving a key without its budget.
 *
 * @example parseBudgets(['50/month', '5/day']) // → [{ limitMicros: 50_000_000, window: 'monthly' }, …]
 */
export function parseBudgets(specs: readonly string[]): BudgetSpec[] {
  const parsed = specs.map((spec) => {
    try {
      return parseBudgetSpec(spec);
    } catch (err) {
      throw new GatewayError('invalid_request', (err as Error).message);
    }
  });
  const windows = parsed.map((b) => b.window);
  if (new Set(windows).size !== windows.length)
    throw new GatewayError('invalid_request', 'one budget per window (day, month, total)');
  return parsed;
}

/**
 * Creates (or replaces) the hard budgets of a tenant or key in the budget repository: the
 * gateway's own (`gateway.costs.repository`, applied on this replica at once) or, in the CLI, one
 * over the database (replicas pick it up at their next budget refresh).
 */
export async function attachBudgets(
  repository: BudgetRepository,
  scope: Extract<BudgetScope, { kind: 'tenant' | 'key' }>,
  budgets: readonly BudgetSpec[],
): Promise<Budget[]> {
  const created: Budget[] = [];
  for (const budget of budgets) created.push(await repository.upsert({ scope, ...budget }));
  return created;
}

/** The budgets of a tenant or key. */
export async function budgetsOf(
  repository: BudgetRepository,
  filter: { tenant: string } | { keyId: string },
): Promise<Budget[]> {
  if ('keyId' in filter) return repository.list({ kind: 'key', keyId: filter.keyId });
  return repository.list({ kind: 'tenant', tenant: filter.tenant });
}

/** A budget as the admin API and the CLI show it. */
export function budgetJson(budget: Budget) {
  return {
    id: budget.id,
    window: budget.window,
    limit_micros: budget.limitMicros,
    limit_usd: formatMicros(budget.limitMicros),
    action: budget.action,
  };
}
