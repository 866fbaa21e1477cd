import { z } from 'zod';
import { dollarsToMicros } from '../pricing/money.js';
import { BUDGET_ACTIONS, BUDGET_WINDOWS, DEFAULT_THRESHOLDS, DEFAULT_TENANT, type BudgetInput } from './types.js';

/**
 * `budgets:` in the config: the store that enforces them, alert delivery, and budgets defined
 * in the file (budgets created through keys, the admin API or the CLI live in SQL).
 */

const budgetLimitSchema = z
  .object({
    /** Shown in errors and alerts. Default: derived from the scope and window (`tenant:acme:monthly`). */
    id: z.string().min(1).max(200).optional(),
    /** Scope: none of tenant/feature/key = global; `feature` alone applies within tenant `default`. */
    tenant: z.string().min(1).optional(),
    feature: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    window: z.enum(BUDGET_WINDOWS),
    /** The limit in dollars (exact to the micro-dollar), e.g. `50` or `"12.50"`. */
    limitUsd: z.union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d{1,6})?$/)]),
    action: z.enum(BUDGET_ACTIONS).default('hard'),
    /** For `action: downgrade`: the alias calls are routed to once this budget is full. */
    downgradeTo: z.string().min(1).optional(),
    /** Alert thresholds in percent of the limit. */
    thresholds: z.array(z.number().int().min(1).max(1000)).default([...DEFAULT_THRESHOLDS]),
    /** When the counter store is down: allow calls unmetered (true) or refuse them (false). */
    failOpen: z.boolean().default(false),
  })
  .strict()
  .refine((b) => !(b.key && (b.tenant || b.feature)), { message: 'a key budget takes no tenant or feature' })
  .refine((b) => b.action !== 'downgrade' || b.downgradeTo !== undefined, {
    message: 'action downgrade needs downgradeTo (a cheaper alias)',
    path: ['downgradeTo'],
  });

const alertsSchema = z
  .object({
    /** Where threshold alerts are POSTed (JSON with a Slack-compatible `text`). None = log line only. */
    webhookUrl: z.url().optional(),
    /** Extra headers for the webhook (e.g. an authorization token). */
    headers: z.record(z.string(), z.string()).default({}),
    timeoutMs: z.number().int().positive().default(5_000),
    /** Deliveries attempted per alert (retries with exponential backoff in between). */
    maxAttempts: z.number().int().positive().default(6),
    /** First backoff; doubles each retry (with jitter), capped at 60 s. */
    backoffMs: z.number().int().nonnegative().default(1_000),
  })
  .strict();

export const budgetsConfigSchema = z
  .object({
    /** `auto`: Redis when `redis.url` is set, else memory (one process). */
    store: z.enum(['auto', 'memory', 'redis']).default('auto'),
    /** A reservation not settled within this time is released (its process died). Longer than your longest call. */
    reservationTtlMs: z.number().int().positive().default(900_000),
    /** How often SQL-defined budgets are re-read (a change made on this replica applies at once). */
    refreshIntervalMs: z.number().int().positive().default(2_000),
    /** Output tokens assumed for a model whose limit is unknown when the client sets no `max_tokens`. */
    defaultMaxOutputTokens: z.number().int().positive().default(16_384),
    /** Longest time one request may spend counting tokens exactly before estimating (pre-flight). */
    countBudgetMs: z.number().positive().default(3),
    /**
     * Which streams under a reservation are counted live, to be cut in-band when they outgrow
     * it: `uncapped` (default) those sent upstream without an output limit (a cap covered by the
     * reservation, or the client's `max_tokens`, already bounds the rest); `always` every one,
     * which also stops an upstream that writes past the limit it was sent (costs a JSON parse
     * and a token count per chunk).
     */
    meterStreams: z.enum(['uncapped', 'always']).default('uncapped'),
    limits: z.array(budgetLimitSchema).default([]),
    alerts: alertsSchema.prefault({}),
  })
  .strict();

export type BudgetsConfig = z.infer<typeof budgetsConfigSchema>;
export type BudgetLimitConfig = z.infer<typeof budgetLimitSchema>;
export type AlertsConfig = z.infer<typeof alertsSchema>;

/** A config budget as a `BudgetInput`. */
export function budgetFromConfig(limit: BudgetLimitConfig): BudgetInput {
  const scope: BudgetInput['scope'] = limit.key
    ? { kind: 'key', keyId: limit.key }
    : limit.feature
      ? { kind: 'feature', tenant: limit.tenant ?? DEFAULT_TENANT, feature: limit.feature }
      : limit.tenant
        ? { kind: 'tenant', tenant: limit.tenant }
        : { kind: 'global' };
  return {
    ...(limit.id ? { id: limit.id } : {}),
    scope,
    window: limit.window,
    limitMicros: dollarsToMicros(limit.limitUsd),
    action: limit.action,
    downgradeTo: limit.downgradeTo ?? null,
    thresholds: limit.thresholds,
    failOpen: limit.failOpen,
  };
}
