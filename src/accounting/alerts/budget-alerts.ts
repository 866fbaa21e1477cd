import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../storage/database.js';
import { formatMicros } from '../budgets/budget-spec.js';
import type { Budget, BudgetScope, BudgetStanding } from '../budgets/types.js';
import { postWebhook, type WebhookOptions } from './webhook.js';

/** The JSON POSTed for one threshold; `text` makes it a valid Slack incoming-webhook message. */
export interface BudgetAlert {
  type: 'budget.threshold';
  text: string;
  budget: { id: string; scope: BudgetScope; window: string; action: string; limitMicros: number; limitUsd: string };
  windowKey: string;
  threshold: number;
  spentMicros: number;
  spentUsd: string;
  percent: number;
  at: string;
}

/** Claims a (budget, window, threshold) once across every replica; true for the one claim that wins. */
export type AlertClaim = (
  budgetId: string,
  windowKey: string,
  threshold: number,
  standing: BudgetStanding,
) => Promise<boolean>;

/**
 * The SQL claim: an insert into `budget_alerts`, whose primary key (budget, window, threshold)
 * lets exactly one insert succeed, whichever replica (or restart) tries.
 */
export function sqlAlertClaim(database: Pick<Database, 'db'>, now: () => number): AlertClaim {
  return async (budgetId, windowKey, threshold, standing) => {
    const result = await database.db
      .insertInto('budgetAlerts')
      .values({
        budgetId,
        windowKey,
        threshold,
        firedAt: now(),
        spentMicros: standing.spentMicros,
        limitMicros: standing.limitMicros,
      })
      .onConflict((oc) => oc.columns(['budgetId', 'windowKey', 'threshold']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  };
}

export interface BudgetAlertsOptions {
  claim: AlertClaim;
  webhook: Omit<WebhookOptions, 'clock' | 'log'> | null;
  clock: Clock;
  log: Logger;
}

/**
 * Usage alerts: after each settle, every threshold a budget's spend has reached fires once per
 * window — a log line always, and a webhook POST when configured. "Once" holds across replicas
 * and restarts (the claim), and the hot path only touches SQL when a threshold is crossed
 * (thresholds already seen in this process are skipped in memory). Deliveries run in the
 * background; `close()` waits for them (bounded by their retries).
 */
export class BudgetAlerts {
  private readonly seen = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: BudgetAlertsOptions) {}

  /** Checks standings after a settle (or a refusal); never throws, never blocks the caller. */
  observe(budgets: ReadonlyMap<string, Budget>, standings: readonly BudgetStanding[]): void {
    for (const standing of standings) {
      const budget = budgets.get(standing.budgetId);
      if (!budget) continue;
      const percent = percentOf(standing);
      for (const threshold of budget.thresholds) {
        if (threshold > percent) break;
        const key = `${budget.id}|${standing.windowKey}|${threshold}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        this.track(this.fire(budget, standing, threshold, percent));
      }
    }
  }

  /** Resolves once every delivery started so far has finished (delivered or given up). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  private async fire(budget: Budget, standing: BudgetStanding, threshold: number, percent: number): Promise<void> {
    const { log, clock } = this.options;
    try {
      if (!(await this.options.claim(budget.id, standing.windowKey, threshold, standing))) return;
    } catch (err) {
      // Without the claim we cannot know whether another replica sent it: forget it, retry on the next settle.
      this.seen.delete(`${budget.id}|${standing.windowKey}|${threshold}`);
      log.warn({ err, budget: budget.id, threshold }, 'budget alert: cannot record the alert; will retry');
      return;
    }
    const alert = toAlert(budget, standing, threshold, percent, clock.wallNow());
    log.warn(
      {
        budget: budget.id,
        window: standing.windowKey,
        threshold,
        spentMicros: standing.spentMicros,
        limitMicros: standing.limitMicros,
      },
      alert.text,
    );
    if (this.options.webhook) await postWebhook(alert, { ...this.options.webhook, clock, log });
  }
}

function percentOf(standing: BudgetStanding): number {
  if (standing.limitMicros === 0) return standing.spentMicros > 0 ? Number.POSITIVE_INFINITY : 0;
  return (standing.spentMicros * 100) / standing.limitMicros;
}

export function toAlert(
  budget: Budget,
  standing: BudgetStanding,
  threshold: number,
  percent: number,
  at: number,
): BudgetAlert {
  const window = standing.windowKey === 'total' ? 'in total' : `${budget.window} window ${standing.windowKey.slice(1)}`;
  return {
    type: 'budget.threshold',
    text:
      `Tollgate: budget "${budget.id}" (${describeScope(budget.scope)}, ${budget.action}) reached ${threshold}% ` +
      `${window}: ${formatMicros(standing.spentMicros)} of ${formatMicros(budget.limitMicros)}.`,
    budget: {
      id: budget.id,
      scope: budget.scope,
      window: budget.window,
      action: budget.action,
      limitMicros: budget.limitMicros,
      limitUsd: formatMicros(budget.limitMicros),
    },
    windowKey: standing.windowKey,
    threshold,
    spentMicros: standing.spentMicros,
    spentUsd: formatMicros(standing.spentMicros),
    percent: Number.isFinite(percent) ? Math.floor(percent * 100) / 100 : 100,
    at: new Date(at).toISOString(),
  };
}

export function describeScope(scope: BudgetScope): string {
  switch (scope.kind) {
    case 'global':
      return 'all traffic';
    case 'tenant':
      return `tenant ${scope.tenant}`;
    case 'feature':
      return `feature ${scope.feature} of tenant ${scope.tenant}`;
    case 'key':
      return `key ${scope.keyId}`;
  }
}
