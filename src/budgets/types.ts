/**
 * Budgets: what they are (definitions, kept in config and in SQL) and the two stores behind them
 * — the repository of definitions and the counter store that enforces them by reservation.
 *
 * Money is always integer micro-dollars (1 USD = 1_000_000). Windows are calendar windows in
 * UTC: `daily` resets at 00:00 UTC, `monthly` on the 1st at 00:00 UTC, `total` never.
 */

/** Who a budget limits. A principal without a tenant (the open embedded default) counts as tenant `default`. */
export type BudgetScope =
  | { readonly kind: 'global' }
  | { readonly kind: 'tenant'; readonly tenant: string }
  | { readonly kind: 'feature'; readonly tenant: string; readonly feature: string }
  | { readonly kind: 'key'; readonly keyId: string };

export type BudgetScopeKind = BudgetScope['kind'];

export const BUDGET_WINDOWS = ['daily', 'monthly', 'total'] as const;
export type BudgetWindow = (typeof BUDGET_WINDOWS)[number];

export const BUDGET_ACTIONS = ['hard', 'soft', 'downgrade'] as const;
/**
 * What happens when a call would take the budget past its limit:
 * - `hard`: refused with 429 `budget_exceeded` (`x-should-retry: false`), the error names the budget;
 * - `soft`: allowed; the 100% alert fires;
 * - `downgrade`: routed to `downgradeTo` (a cheaper alias); refused like `hard` if that does not fit either.
 */
export type BudgetAction = (typeof BUDGET_ACTIONS)[number];

/** The tenant a call without one is counted under (anonymous principals on the embedded default). */
export const DEFAULT_TENANT = 'default';

/** Default alert thresholds, in percent of the limit. */
export const DEFAULT_THRESHOLDS: readonly number[] = Object.freeze([50, 80, 100]);

export interface Budget {
  /** Stable name, shown in errors, alerts and logs (e.g. `acme-monthly`, `key:k_123:monthly`). */
  readonly id: string;
  readonly scope: BudgetScope;
  readonly window: BudgetWindow;
  /** Integer micro-dollars. */
  readonly limitMicros: number;
  readonly action: BudgetAction;
  /** The alias calls are routed to when a `downgrade` budget is full. */
  readonly downgradeTo: string | null;
  /** Percentages of the limit at which an alert fires (once per window); ascending, 1–1000. */
  readonly thresholds: readonly number[];
  /** When the counter store is unreachable: refuse (false, the default) or allow unmetered (true). */
  readonly failOpen: boolean;
  /** Where the definition lives. Config budgets are read-only at run time. */
  readonly source: 'config' | 'sql';
}

/** What `BudgetRepository.upsert` takes: everything but the scope, window and limit has a default. */
export interface BudgetInput {
  /** Defaults to `budgetIdFor(scope, window)`, so one scope has at most one budget per window unless named. */
  id?: string;
  scope: BudgetScope;
  window: BudgetWindow;
  limitMicros: number;
  /** Default `hard`. */
  action?: BudgetAction;
  downgradeTo?: string | null;
  /** Default 50, 80, 100. */
  thresholds?: readonly number[];
  /** Default false (fail closed). */
  failOpen?: boolean;
}

/**
 * Budget definitions persisted in SQL (table `budgets`, migration 003). Writes take effect on
 * every replica within `budgets.refreshIntervalMs`, and at once in the process that wrote.
 *
 * @example
 * const budgets = createSqlBudgetRepository(database);
 * await budgets.upsert({ scope: { kind: 'key', keyId: 'k_123' }, ...parseBudgetSpec('50/month') });
 * // → { id: 'key:k_123:monthly', limitMicros: 50_000_000, window: 'monthly', action: 'hard', ... }
 */
export interface BudgetRepository {
  /** Creates the budget, or replaces the one with the same id. Validates (throws `RangeError` on bad input). */
  upsert(input: BudgetInput): Promise<Budget>;
  get(id: string): Promise<Budget | null>;
  /** Every budget, or those of one scope kind / tenant / key. */
  list(filter?: { kind?: BudgetScopeKind; tenant?: string; keyId?: string }): Promise<Budget[]>;
  /** Returns whether a budget was deleted. */
  delete(id: string): Promise<boolean>;
}

/** One budget's share of a reservation: which counter (budget + window instance) and how much. */
export interface BudgetCharge {
  readonly budget: Budget;
  /** The window instance, e.g. `d2026-01-15`, `m2026-01`, `total` (see `windowOf`). */
  readonly windowKey: string;
  /** Epoch ms when this window instance started (0 for `total`), for reseeding from the ledger. */
  readonly windowStart: number;
  /** Epoch ms when it ends (`Infinity` for `total`), for counter expiry. */
  readonly windowEnd: number;
}

export interface ReserveRequest {
  /** The request id: reservations and settlements are idempotent by it. */
  readonly id: string;
  readonly charges: readonly BudgetCharge[];
  /** Integer micro-dollars reserved on every charged budget. */
  readonly amountMicros: number;
  /** A reservation not settled by then is released by the store (the process holding it died). */
  readonly ttlMs: number;
}

/** One budget's state as seen by a reservation attempt. */
export interface BudgetStanding {
  readonly budgetId: string;
  readonly windowKey: string;
  /** Settled spend in the window. */
  readonly spentMicros: number;
  /** Outstanding reservations (including this one, when admitted). */
  readonly reservedMicros: number;
  readonly limitMicros: number;
}

export type ReserveOutcome =
  /** Reserved on every charge (soft budgets may be past their limit: see `over`). */
  | { readonly ok: true; readonly standings: readonly BudgetStanding[]; readonly over: readonly string[] }
  /** Nothing reserved: these hard/downgrade budgets would be exceeded. */
  | { readonly ok: false; readonly standings: readonly BudgetStanding[]; readonly over: readonly string[] }
  /** Nothing reserved: these counters are unknown to the store (new window, or the store lost them); seed and retry. */
  | { readonly ok: false; readonly unseeded: readonly BudgetCharge[] };

/**
 * Budget counters, enforced by reservation. Every operation is atomic across all the charges of
 * one request (all budgets admit, or none is touched). Implementations: memory (one process)
 * and Redis (Lua scripts; several replicas). Both must pass `budget-store-contract.ts`.
 */
export interface BudgetStore {
  readonly kind: 'memory' | 'redis';
  /** Reserves `amountMicros` on every charge, unless a hard (or downgrade) budget would go past its limit. */
  reserve(request: ReserveRequest): Promise<ReserveOutcome>;
  /**
   * Adds `extraMicros` to a reservation (a stream that needs more than it reserved), under the
   * same all-or-nothing rule, and renews its time to live. A reservation that expired is
   * recreated. `ok: false` when a hard budget has no room (nothing changes then).
   */
  extend(id: string, extraMicros: number, charges: readonly BudgetCharge[], ttlMs: number): Promise<ReserveOutcome>;
  /**
   * Turns the reservation into spend: `actualMicros` is added to each charged budget's spend and
   * the reservation released. Idempotent by id: a second settle is a no-op. A settle without a
   * reservation (expired, or lost) still records the spend on `charges`.
   */
  settle(id: string, actualMicros: number, charges: readonly BudgetCharge[]): Promise<readonly BudgetStanding[]>;
  /** Releases a reservation without spend. Idempotent; a later `settle` still records its spend. */
  release(id: string, charges: readonly BudgetCharge[]): Promise<void>;
  /** Sets a counter's settled spend unless it already exists (reseeding from the ledger). */
  seed(charge: BudgetCharge, spentMicros: number): Promise<void>;
  /** Current standing of one counter, or null if the store does not know it. */
  standing(charge: BudgetCharge): Promise<BudgetStanding | null>;
  close(): Promise<void>;
}

/**
 * Told every budget standing after a reservation or a settle (usage alerts: alerts/). `refused`:
 * the budgets that refused the call. Never throws, never blocks the caller.
 */
export interface StandingsObserver {
  observe(
    budgets: ReadonlyMap<string, Budget>,
    standings: readonly BudgetStanding[],
    refused?: ReadonlySet<string>,
  ): void;
  /** Resolves once the work it started in the background has finished. */
  close(): Promise<void>;
}
