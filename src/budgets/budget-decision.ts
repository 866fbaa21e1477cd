import type { Budget } from './types.js';

/** What the budgets say about a call. */
export type BudgetDecision =
  /** Let it run; `softOver`: soft budgets it takes past their limit (warn and alert, never refuse). */
  | { readonly decision: 'admit'; readonly softOver: readonly Budget[] }
  /**
   * Every budget in the way is a downgrade budget: try the call on `to` instead. The caller checks
   * that the cheaper call fits (reserves it, or quotes it) and refuses naming `over` when not.
   */
  | { readonly decision: 'downgrade'; readonly to: string; readonly over: readonly Budget[] }
  /** Refuse: `over` are the budgets in the way, the one to name first. */
  | { readonly decision: 'deny'; readonly over: readonly Budget[] };

/**
 * The one place admit / deny / downgrade is decided, for the budget policy (on the budgets its
 * reservation was refused by) and for the quote (on the budgets the call's maximum would take
 * past their limit): soft budgets never refuse; a hard budget refuses; when every budget in the
 * way is a downgrade budget, the call may be rerouted to the first one's `downgradeTo` — an
 * alias that exists and is not the one asked for.
 *
 * @example decideBudgets([monthlyDowngradeToMini], 'gpt-4o', (a) => a === 'mini')
 *   // → { decision: 'downgrade', to: 'mini', over: [monthlyDowngradeToMini] }
 */
export function decideBudgets(
  over: readonly Budget[],
  model: string,
  isAlias: (name: string) => boolean,
): BudgetDecision {
  const hard = over.filter((b) => b.action === 'hard');
  const downgrade = over.filter((b) => b.action === 'downgrade');
  if (hard.length === 0 && downgrade.length === 0) {
    return { decision: 'admit', softOver: over.filter((b) => b.action === 'soft') };
  }
  // Hard budgets first: they are the ones that cannot be routed around.
  const blocking = [...hard, ...downgrade];
  const to = hard.length === 0 ? (downgrade[0]?.downgradeTo ?? null) : null;
  if (to !== null && to !== model && isAlias(to)) return { decision: 'downgrade', to, over: blocking };
  return { decision: 'deny', over: blocking };
}
