import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Database } from '../storage/database.js';
import { formatMicros } from '../pricing/money.js';
import { describeScope } from '../budgets/budget-spec.js';
import type { AlertsConfig } from '../budgets/schema.js';
import type { Budget, BudgetScope, BudgetStanding, StandingsObserver } from '../budgets/types.js';
import { postWebhook, type WebhookOptions } from './webhook.js';

/** The JSON POSTed for one threshold; `text` makes it a valid Slack incoming-webhook message. */
export interface BudgetAlert {
  type: 'budget.threshold';
  text: string;
  /** True when a refused call (not the spend itself) took the budget to this threshold. */
  refused: boolean;
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

/** The usage alerts `budgets.alerts` configures, claimed in SQL so one replica fires each. */
export function createBudgetAlerts(
  config: AlertsConfig,
  database: Pick<Database, 'db'>,
  { clock, log }: { clock: Clock; log: Logger },
): BudgetAlerts {
  return new BudgetAlerts({
    claim: sqlAlertClaim(database, () => clock.wallNow()),
    webhook: config.webhookUrl
      ? {
          url: config.webhookUrl,
          headers: config.headers,
          timeoutMs: config.timeoutMs,
          maxAttempts: config.maxAttempts,
          backoffMs: config.backoffMs,
        }
      : null,
    clock,
    log,
  });
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
export class BudgetAlerts implements StandingsObserver {
  private readonly seen = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();

  constructor(private readonly options: BudgetAlertsOptions) {}

  /**
   * Checks standings after a settle, or after a refusal (`refused`: the budgets that refused the
   * call). A hard budget refuses before its spend reaches 100% — the call's maximum would not
   * fit — so a refusal fires the budget's highest threshold up to 100% as "exhausted": the alert
   * that matters most.
   * Never throws, never blocks the caller.
   */
  observe(
    budgets: ReadonlyMap<string, Budget>,
    standings: readonly BudgetStanding[],
    refused: ReadonlySet<string> = NONE,
  ): void {
    for (const standing of standings) {
      const budget = budgets.get(standing.budgetId);
      if (!budget) continue;
      const spent = percentOf(standing);
      for (const threshold of budget.thresholds) {
        if (threshold > spent) break;
        this.once(budget, standing, threshold, () => this.fire(budget, standing, threshold, spent, false));
      }
      if (!refused.has(budget.id)) continue;
      // Refused: the highest threshold up to 100% fires as "exhausted" (lower ones wait for the spend).
      const top = budget.thresholds.filter((t) => t <= 100).at(-1);
      if (top !== undefined) this.once(budget, standing, top, () => this.fire(budget, standing, top, spent, true));
    }
  }

  private once(budget: Budget, standing: BudgetStanding, threshold: number, fire: () => Promise<void>): void {
    const key = `${budget.id}|${standing.windowKey}|${threshold}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.track(fire());
  }

  /** Resolves once every delivery started so far has finished (delivered or given up). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.finally(() => this.pending.delete(promise));
  }

  private async fire(
    budget: Budget,
    standing: BudgetStanding,
    threshold: number,
    percent: number,
    refusal: boolean,
  ): Promise<void> {
    const { log, clock } = this.options;
    try {
      if (!(await this.options.claim(budget.id, standing.windowKey, threshold, standing))) return;
    } catch (err) {
      // Without the claim we cannot know whether another replica sent it: forget it, retry on the next settle.
      this.seen.delete(`${budget.id}|${standing.windowKey}|${threshold}`);
      log.warn({ err, budget: budget.id, threshold }, 'budget alert: cannot record the alert; will retry');
      return;
    }
    const alert = toAlert(budget, standing, threshold, percent, clock.wallNow(), refusal);
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

const NONE: ReadonlySet<string> = new Set();

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
  refusal = false,
): BudgetAlert {
  const window = standing.windowKey === 'total' ? 'in total' : `${budget.window} window ${standing.windowKey.slice(1)}`;
  const head = `Tollgate: budget "${budget.id}" (${describeScope(budget.scope)}, ${budget.action})`;
  const used = formatMicros(standing.spentMicros + standing.reservedMicros);
  return {
    type: 'budget.threshold',
    text: refusal
      ? `${head} is exhausted ${window}: a call was refused with ${used} of ${formatMicros(budget.limitMicros)} spent or reserved.`
      : `${head} reached ${threshold}% ${window}: ${formatMicros(standing.spentMicros)} of ${formatMicros(budget.limitMicros)}.`,
    refused: refusal,
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
